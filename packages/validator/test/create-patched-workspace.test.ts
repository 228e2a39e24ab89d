import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Patch } from '@agentmesh/protocol';
import { createPatchedWorkspace, PatchApplyError, parseTestOutput, parseTscOutput } from '../src/engine';
import { copyBrokenRepo, fullDigest, removeDir, run } from './workspace-fixture';

const spelling: Patch = {
  taskId: 'T005',
  file: 'src/stats.ts',
  description: "Change spelling to 'average'",
  candidateId: 'src/stats.ts#2552/spelling/abc',
  unifiedDiff: [
    '--- a/src/stats.ts',
    '+++ b/src/stats.ts',
    '@@ -6,3 +6,3 @@',
    ' export function meanEntry(entries: readonly Entry[]): number {',
    '-  return averge(entries.map((entry) => entry.cents));',
    '+  return average(entries.map((entry) => entry.cents));',
    ' }',
    '',
  ].join('\n'),
};

let workspace: string;
beforeEach(() => {
  workspace = copyBrokenRepo();
});
afterEach(() => removeDir(workspace));

describe('createPatchedWorkspace', () => {
  test('applies patches in a fresh copy, links node_modules, and leaves the original alone', () => {
    fs.mkdirSync(path.join(workspace, 'node_modules/some-dependency'), { recursive: true });
    const before = fullDigest(workspace);
    const copy = createPatchedWorkspace({ workspace, patches: [spelling] });
    try {
      expect(copy.dir).not.toBe(workspace);
      expect(copy.filesTouched).toEqual(['src/stats.ts']);
      expect(fs.readFileSync(path.join(copy.dir, 'src/stats.ts'), 'utf8')).toContain('return average(');
      expect(fs.lstatSync(path.join(copy.dir, 'node_modules')).isSymbolicLink()).toBe(true);
      expect(fs.realpathSync(path.join(copy.dir, 'node_modules'))).toBe(fs.realpathSync(path.join(workspace, 'node_modules')));
      expect(fullDigest(workspace)).toBe(before);

      // The copy is a working repository: the patched file no longer has its type error, and
      // the example's own tests run in it with its own runner.
      const tsc = run(copy.dir, process.execPath, ['scripts/tsc.js', '--noEmit', '-p', '.', '--pretty', 'false']);
      const files = parseTscOutput(tsc.stdout).map((diagnostic) => diagnostic.file);
      expect(files).not.toContain('src/stats.ts');
      expect(files).toContain('src/totals.ts');
      const tests = run(copy.dir, process.execPath, ['scripts/test.js']);
      expect(parseTestOutput(tests.stdout, { root: copy.dir }).map((failure) => failure.name)).toEqual([
        'balance adds up every entry',
        'summarize uses the configured title and currency',
      ]);
    } finally {
      copy.dispose();
    }
    expect(fs.existsSync(copy.dir)).toBe(false);
  });

  test('a patch that does not apply fails clearly, and the copy is removed', () => {
    const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-root-'));
    const stale: Patch = { ...spelling, candidateId: 'stale-1', unifiedDiff: spelling.unifiedDiff.replace('-  return averge', '-  return mean') };
    try {
      expect(() => createPatchedWorkspace({ workspace, patches: [stale], tempRoot })).toThrow(PatchApplyError);
      expect(() => createPatchedWorkspace({ workspace, patches: [stale], tempRoot })).toThrow('patch stale-1 does not apply to src/stats.ts: its context does not match the file');
      expect(() => createPatchedWorkspace({ workspace, patches: [{ ...spelling, file: '../outside.ts' }], tempRoot })).toThrow(/leaves the workspace/);
      expect(() => createPatchedWorkspace({ workspace, patches: [{ ...spelling, file: 'src/missing.ts' }], tempRoot })).toThrow(/src\/missing\.ts: the file does not exist/);
      expect(fs.readdirSync(tempRoot)).toEqual([]);
    } finally {
      removeDir(tempRoot);
    }
  });

  test('patches apply in order, a later one on top of an earlier one', () => {
    const again: Patch = {
      ...spelling,
      candidateId: 'second',
      unifiedDiff: spelling.unifiedDiff.replace('-  return averge(', '-  return average(').replace('+  return average(entries', '+  return average([...entries].map((entry) => entry.cents).length ? entries'),
    };
    const copy = createPatchedWorkspace({ workspace, patches: [spelling, again] });
    try {
      expect(fs.readFileSync(path.join(copy.dir, 'src/stats.ts'), 'utf8')).toContain('return average([...entries]');
    } finally {
      copy.dispose();
    }
  });
});
