// Test helpers: fresh copies of examples/broken-repo, and running its own scripts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export { treeDigest } from '@agentmesh/validator';

export const brokenRepo = path.resolve(__dirname, '../../../examples/broken-repo');

/** Copies the example into a new temp dir (without any dist it may have). */
export function copyBrokenRepo(): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-coder-'));
  fs.cpSync(brokenRepo, target, { recursive: true, filter: (source) => !/[\\/](dist|node_modules)$/.test(source) });
  return target;
}


/** Runs one of the example's scripts (scripts/tsc.js, scripts/test.js) in dir. */
export function runScript(dir: string, script: string, args: string[] = []): { status: number | null; output: string } {
  const env = { ...process.env, AGENTMESH_TYPESCRIPT: path.dirname(require.resolve('typescript/package.json')) };
  const result = spawnSync(process.execPath, [path.join(dir, script), ...args], { cwd: dir, env, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
