import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Patch, Task } from '@agentmesh/protocol';
import {
  applyUnifiedDiff,
  collectDiagnostics,
  collectPatches,
  createScriptedModelProvider,
  implementTask,
  rankCodeFix,
  type CoderEvent,
} from '../src/engine';
import { brokenRepo, copyBrokenRepo, removeDir, runScript, treeDigest } from './broken-repo';

function task(overrides: Partial<Task>): Task {
  return { id: 'T001', title: 'fix', parallel: false, story: '', phase: '', files: [], dependsOn: [], kind: 'fix-diagnostics', diagnostics: [], sourceLine: 0, ...overrides };
}

async function events(iterable: AsyncIterable<CoderEvent>): Promise<CoderEvent[]> {
  const all: CoderEvent[] = [];
  for await (const event of iterable) all.push(event);
  return all;
}

function applyToDisk(dir: string, patches: readonly Patch[]): void {
  for (const patch of patches) {
    const file = path.join(dir, patch.file);
    fs.writeFileSync(file, applyUnifiedDiff(patch.file, fs.readFileSync(file, 'utf8'), patch.unifiedDiff));
  }
}

let workspace: string;
beforeEach(() => {
  workspace = copyBrokenRepo();
});
afterEach(() => removeDir(workspace));

describe('implementTask on examples/broken-repo', () => {
  test('the example starts with five type errors in four files', () => {
    const diagnostics = collectDiagnostics(workspace);
    expect(diagnostics.map((diagnostic) => `${diagnostic.file}:${diagnostic.line}:${diagnostic.code}`).sort()).toEqual([
      'src/memory-sink.ts:5:2420',
      'src/stats.ts:7:2552',
      'src/summary.ts:10:2339',
      'src/summary.ts:9:2339',
      'src/totals.ts:6:2304',
    ]);
  });

  test('picks the import, spelling, await and implement-interface fixes, then the repo typechecks and its tests pass', async () => {
    const before = runScript(workspace, 'scripts/test.js');
    expect(before.status).not.toBe(0);
    expect(before.output).toMatch(/# fail 3/);

    const all = await events(implementTask({ workspace, task: task({ id: 'T100', kind: 'make-tests-pass' }) }));
    const patches = all.flatMap((event) => (event.type === 'patch-end' ? [event.patch] : []));
    expect(patches.map((patch) => `${patch.file}: ${patch.description}`).sort()).toEqual([
      "src/memory-sink.ts: Implement interface 'Sink'",
      "src/stats.ts: Change spelling to 'average'",
      "src/summary.ts: Add 'await' to initializer for 'config'",
      'src/totals.ts: Add import from "./money"',
    ]);
    for (const patch of patches) {
      expect(patch.unifiedDiff.startsWith(`--- a/${patch.file}\n+++ b/${patch.file}\n@@ `)).toBe(true);
      expect(patch.unifiedDiff).toContain(`+++ b/${patch.file}`);
      expect(patch.taskId).toBe('T100');
    }
    const finish = all[all.length - 1];
    expect(finish).toMatchObject({ type: 'finish', unresolved: [] });
    // Every patch streams start → hunks → end under one id.
    const firstId = all.find((event) => event.type === 'patch-start');
    expect(firstId && firstId.type === 'patch-start' && all.filter((event) => 'id' in event && event.id === firstId.id).map((event) => event.type)).toEqual(['patch-start', 'patch-delta', 'patch-end']);

    applyToDisk(workspace, patches);
    expect(runScript(workspace, 'scripts/tsc.js', ['--noEmit', '-p', '.'])).toEqual({ status: 0, output: '' });
    const after = runScript(workspace, 'scripts/test.js');
    expect(after.output).toMatch(/# pass 5/);
    expect(after.status).toBe(0);
  });

  test('never writes the workspace it reads', async () => {
    const digest = treeDigest(brokenRepo);
    await collectPatches(implementTask({ workspace: brokenRepo, task: task({ kind: 'make-tests-pass' }) }));
    expect(treeDigest(brokenRepo)).toBe(digest);
  });

  test('a misspelled call gets the spelling fix, and a missing import is not replaced by a throwing stub', async () => {
    const spelling = await collectPatches(implementTask({ workspace, task: task({ files: ['src/stats.ts'] }) }));
    expect(spelling).toHaveLength(1);
    expect(spelling[0].unifiedDiff).toContain('+  return average(entries.map');
    expect(spelling[0].unifiedDiff).not.toContain('not implemented');

    const all = await events(implementTask({ workspace, task: task({ files: ['src/totals.ts'] }) }));
    const ranked = all.flatMap((event) => (event.type === 'candidate' ? [event.candidate] : []));
    expect(ranked.map((candidate) => candidate.verdict)).toEqual(['accepted']);
    expect(ranked[0].fixName).toBe('import');
    expect(rankCodeFix({ fixName: 'fixMissingFunctionDeclaration', description: '', newText: "throw new Error('Function not implemented.');" })).toBeLessThan(
      rankCodeFix({ fixName: 'import', description: '', newText: '' }),
    );
  });

  test('a rejected candidate is not offered again: the next one is', async () => {
    const scope = task({ files: ['src/totals.ts'] });
    const [first] = await collectPatches(implementTask({ workspace, task: scope }));
    expect(first.candidateId).toMatch(/^src\/totals\.ts#2304\/import\//);
    const [again] = await collectPatches(implementTask({ workspace, task: scope }));
    expect(again.candidateId).toBe(first.candidateId);

    const [second] = await collectPatches(implementTask({ workspace, task: scope, attempt: 2, rejectedCandidates: [first.candidateId] }));
    expect(second.candidateId).not.toBe(first.candidateId);
    expect(second.description).toBe('Add import from "."');

    const third = await events(implementTask({ workspace, task: scope, attempt: 3, rejectedCandidates: [first.candidateId, second.candidateId] }));
    const verdicts = third.flatMap((event) => (event.type === 'candidate' ? [`${event.candidate.fixName}:${event.candidate.verdict}`] : []));
    expect(verdicts).toEqual(['import:rejected-before', 'import:rejected-before', 'fixMissingFunctionDeclaration:accepted']);
  });

  test('a custom ranking that prefers stubs yields the stub, which the example tests then catch', async () => {
    const stubsFirst = (fix: Parameters<typeof rankCodeFix>[0]) => (fix.fixName === 'fixMissingFunctionDeclaration' ? 1000 : rankCodeFix(fix));
    const patches = await collectPatches(implementTask({ workspace, task: task({ kind: 'make-tests-pass' }), rank: stubsFirst }));
    const stub = patches.find((patch) => patch.file === 'src/totals.ts');
    expect(stub?.unifiedDiff).toContain("throw new Error('Function not implemented.')");
    applyToDisk(workspace, patches);
    const run = runScript(workspace, 'scripts/test.js');
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/Function not implemented/);
  });

  test('builds on base patches from earlier tasks', async () => {
    const base = await collectPatches(implementTask({ workspace, task: task({ id: 'T001', files: ['src/summary.ts'] }) }));
    expect(base).toHaveLength(1);
    const rest = await collectPatches(implementTask({ workspace, task: task({ id: 'T002', kind: 'make-tests-pass' }), basePatches: base }));
    expect(rest.map((patch) => patch.file).sort()).toEqual(['src/memory-sink.ts', 'src/stats.ts', 'src/totals.ts']);
    expect(collectDiagnostics(workspace, [...base, ...rest])).toEqual([]);
  });

  test('a base patch that does not apply is a clear error', async () => {
    const bad: Patch = { taskId: 'T000', file: 'src/stats.ts', unifiedDiff: '--- a/src/stats.ts\n+++ b/src/stats.ts\n@@ -1,1 +1,1 @@\n-nothing like this\n+x\n', description: '', candidateId: 'x' };
    await expect(collectPatches(implementTask({ workspace, task: task({}), basePatches: [bad] }))).rejects.toThrow(/base patch of task T000 patch does not apply to src\/stats\.ts/);
  });
});

describe('free-text tasks', () => {
  test('without a model provider: a clear error that one is needed', async () => {
    await expect(collectPatches(implementTask({ workspace, task: task({ kind: 'free-text', title: 'Add a CSV export' }) }))).rejects.toThrow(
      /free text .*a model provider is needed/,
    );
  });

  test('with the scripted provider: its call is recorded, its text streamed and its diff becomes a patch', async () => {
    const answer = [
      'Here is the change:',
      '```diff',
      '--- a/src/stats.ts',
      '+++ b/src/stats.ts',
      '@@ -7,1 +7,1 @@',
      '-  return averge(entries.map((entry) => entry.cents));',
      '+  return average(entries.map((entry) => entry.cents));',
      '```',
    ].join('\n');
    const provider = createScriptedModelProvider({ responses: [answer], chunkSize: 20 });
    const controller = new AbortController();
    const all = await events(
      implementTask({ workspace, task: task({ kind: 'free-text', title: 'Fix the mean', files: ['src/stats.ts'] }), provider, signal: controller.signal }),
    );
    expect(provider.calls).toHaveLength(1);
    expect(provider.calls[0].prompt).toContain('Fix the mean');
    expect(provider.calls[0].prompt).toContain('return averge(');
    expect(provider.calls[0].signal).toBe(controller.signal);
    const text = all.flatMap((event) => (event.type === 'text-delta' ? [event.delta] : [])).join('');
    expect(text).toBe(answer);
    const patches = all.flatMap((event) => (event.type === 'patch-end' ? [event.patch] : []));
    expect(patches).toHaveLength(1);
    expect(collectDiagnostics(workspace, patches).filter((diagnostic) => diagnostic.file === 'src/stats.ts')).toEqual([]);
    expect(all[all.length - 1]).toMatchObject({ type: 'finish', usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) } });
  });
});
