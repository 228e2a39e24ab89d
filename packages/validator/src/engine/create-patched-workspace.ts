/**
 * A fresh, patched copy of a workspace for the checks to run in: the original is never
 * touched. node_modules is linked, not copied, so a copy costs only the sources.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPatch, parsePatch } from 'diff';
import pino, { type Logger } from 'pino';
import type { Patch } from '@agentmesh/protocol';

/** A patch that does not fit the file it names. */
export class PatchApplyError extends Error {
  constructor(
    readonly file: string,
    readonly candidateId: string,
    reason: string,
  ) {
    super(`patch ${candidateId || '(no candidate id)'} does not apply to ${file}: ${reason}`);
    this.name = 'PatchApplyError';
  }
}

/** Options of createPatchedWorkspace. */
export interface PatchedWorkspaceOptions {
  workspace: string;
  patches?: readonly Patch[];
  /** Where the copy is made; the OS temp dir by default. */
  tempRoot?: string;
  logger?: Logger;
}

/** The copy: its directory, the files the patches touched, and a way to remove it. */
export interface PatchedWorkspace {
  dir: string;
  filesTouched: string[];
  dispose(): void;
}

const defaultLogger = pino({ name: 'validator-engine', level: process.env.LOG_LEVEL || 'info' });

/** Copies a directory tree, linking every node_modules instead of copying it and leaving .git out. */
export function copyWorkspace(source: string, target: string): void {
  fs.mkdirSync(target, { recursive: true });
  for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name);
    const to = path.join(target, entry.name);
    if (entry.name === '.git') continue;
    if (entry.name === 'node_modules') {
      fs.symlinkSync(fs.realpathSync(from), to, 'dir');
    } else if (entry.isDirectory()) {
      copyWorkspace(from, to);
    } else if (entry.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(from), to);
    } else if (entry.isFile()) {
      fs.copyFileSync(from, to);
    }
  }
}

function targetOf(patch: Patch): string {
  if (patch.file) return patch.file;
  const [parsed] = parsePatch(patch.unifiedDiff);
  const name = parsed?.newFileName && parsed.newFileName !== '/dev/null' ? parsed.newFileName : parsed?.oldFileName;
  if (!name) throw new PatchApplyError('(unknown file)', patch.candidateId, 'the diff names no file');
  return name.replace(/^[ab]\//, '');
}

/** Applies unified diffs in order to the files of dir; throws a PatchApplyError on the first that does not fit. */
export function applyPatches(dir: string, patches: readonly Patch[]): string[] {
  const touched = new Set<string>();
  for (const patch of patches) {
    const file = targetOf(patch);
    const absolute = path.resolve(dir, file);
    if (path.relative(dir, absolute).startsWith('..') || path.isAbsolute(path.relative(dir, absolute))) {
      throw new PatchApplyError(file, patch.candidateId, 'the path leaves the workspace');
    }
    const parsed = parsePatch(patch.unifiedDiff);
    if (parsed.length !== 1) throw new PatchApplyError(file, patch.candidateId, `expected one file diff, found ${parsed.length}`);
    const created = parsed[0].oldFileName === '/dev/null';
    if (!created && !fs.existsSync(absolute)) throw new PatchApplyError(file, patch.candidateId, 'the file does not exist');
    const before = created && !fs.existsSync(absolute) ? '' : fs.readFileSync(absolute, 'utf8');
    const after = applyPatch(before, parsed[0]);
    if (after === false) throw new PatchApplyError(file, patch.candidateId, 'its context does not match the file');
    fs.mkdirSync(path.dirname(absolute), { recursive: true });
    fs.writeFileSync(absolute, after);
    touched.add(file);
  }
  return [...touched];
}

/** Copies the workspace to a new temp dir and applies the patches there; the copy is removed if a patch fails. */
export function createPatchedWorkspace(options: PatchedWorkspaceOptions): PatchedWorkspace {
  const source = path.resolve(options.workspace);
  if (!fs.existsSync(source)) throw new Error(`workspace ${options.workspace} does not exist`);
  const dir = fs.mkdtempSync(path.join(options.tempRoot ?? os.tmpdir(), 'agentmesh-validate-'));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    copyWorkspace(source, dir);
    const filesTouched = applyPatches(dir, options.patches ?? []);
    (options.logger ?? defaultLogger).debug({ dir, filesTouched }, 'patched workspace ready');
    return { dir, filesTouched, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}
