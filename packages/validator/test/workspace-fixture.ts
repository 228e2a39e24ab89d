// Test helpers: fresh copies of examples/broken-repo and a digest of everything in a tree.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { copyWorkspace, treeDigest } from '../src/engine';

/** Digest of every file, directory, link and mtime under dir, .git included: any write changes it. */
export const fullDigest = (dir: string): string => treeDigest(dir, { skip: [], metadata: true });

export const brokenRepo = path.resolve(__dirname, '../../../examples/broken-repo');

export function copyBrokenRepo(): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-validator-'));
  copyWorkspace(brokenRepo, target);
  fs.rmSync(path.join(target, 'dist'), { recursive: true, force: true });
  return target;
}


export function run(dir: string, command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, AGENTMESH_TYPESCRIPT: path.dirname(require.resolve('typescript/package.json')) };
  const result = spawnSync(command, args, { cwd: dir, env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
