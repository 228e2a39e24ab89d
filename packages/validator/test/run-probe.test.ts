import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseTscOutput, probeKinds, runAllProbes, runProbe } from '../src/engine';
import { copyBrokenRepo, fullDigest, removeDir, run } from './workspace-fixture';

let workspace: string;
beforeEach(() => {
  workspace = copyBrokenRepo();
});
afterEach(() => removeDir(workspace));

const findings = async (kind: string) => JSON.parse((await runProbe(workspace, kind)).json);

describe('read-only probes', () => {
  test('the tree lists sources and skips node_modules, .git and dist', async () => {
    fs.mkdirSync(path.join(workspace, 'node_modules/left-pad'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'node_modules/left-pad/index.js'), '');
    fs.mkdirSync(path.join(workspace, 'dist'));
    fs.writeFileSync(path.join(workspace, 'dist/index.js'), '');
    const tree = await runProbe(workspace, 'tree');
    const { files } = JSON.parse(tree.json) as { files: string[] };
    expect(files).toContain('src/stats.ts');
    expect(files).toContain('tasks.md');
    expect(files.filter((file) => /node_modules|dist\//.test(file))).toEqual([]);
    expect(tree.summary).toMatch(/^\d+ files, 10 TypeScript$/);
    expect(tree.kind).toBe('tree');
  });

  test('package, tsconfig and test runner', async () => {
    expect(await findings('package')).toMatchObject({ name: 'broken-repo', scripts: { typecheck: expect.any(String), test: 'node scripts/test.js' } });
    const tsconfig = await findings('tsconfig');
    expect(tsconfig).toMatchObject({ present: true, strict: true, target: 'ES2022', outDir: 'dist' });
    expect(tsconfig.files).toContain('test/ledger.test.ts');
    expect(await findings('test-runner')).toMatchObject({ runner: 'node-test', scriptFile: 'scripts/test.js', command: ['npm', 'test'] });
  });

  test('diagnostics agree with what tsc itself prints', async () => {
    const probe = await runProbe(workspace, 'diagnostics');
    expect(probe.summary).toBe('5 type errors in 4 files');
    const tsc = run(workspace, process.execPath, ['scripts/tsc.js', '--noEmit', '-p', '.', '--pretty', 'false']);
    expect(tsc.status).toBe(2);
    const where = (diagnostic: { file: string; line: number; column: number; code: number }) => `${diagnostic.file}(${diagnostic.line},${diagnostic.column}) TS${diagnostic.code}`;
    expect(probe.diagnostics.map(where).sort()).toEqual(parseTscOutput(tsc.stdout).map(where).sort());
    expect(probe.diagnostics.find((diagnostic) => diagnostic.code === 2552)).toMatchObject({ file: 'src/stats.ts', message: "Cannot find name 'averge'. Did you mean 'average'?" });
  });

  test('git status where there is a repository, and nothing when there is none', async () => {
    expect(await findings('git')).toEqual({ repository: false });
    const git = (...args: string[]) => run(workspace, 'git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args]);
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-qm', 'initial');
    fs.appendFileSync(path.join(workspace, 'src/stats.ts'), '// changed\n');
    fs.writeFileSync(path.join(workspace, 'notes.txt'), 'new\n');
    const status = await findings('git');
    expect(status.branch).toBe('main');
    expect(status.changes).toEqual([
      { status: 'M', file: 'src/stats.ts' },
      { status: '??', file: 'notes.txt' },
    ]);
  });

  test('no probe writes anything, .git included', async () => {
    run(workspace, 'git', ['init', '-q']);
    run(workspace, 'git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '--allow-empty', '-m', 'initial']);
    fs.appendFileSync(path.join(workspace, 'src/money.ts'), '\n');
    const before = fullDigest(workspace);
    const results = await runAllProbes(workspace);
    expect(results.map((result) => result.kind)).toEqual([...probeKinds]);
    for (const result of results) {
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
      expect(result.summary).not.toBe('');
      expect(() => JSON.parse(result.json)).not.toThrow();
    }
    expect(fullDigest(workspace)).toBe(before);
  });

  test('an unknown probe or a missing workspace is a clear error', async () => {
    await expect(runProbe(workspace, 'weather')).rejects.toThrow("unknown probe kind 'weather': expected one of tree, package, tsconfig, test-runner, diagnostics, git");
    await expect(runProbe(path.join(workspace, 'nope'), 'tree')).rejects.toThrow(/is not a directory/);
  });
});
