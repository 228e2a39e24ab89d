/**
 * A strict applier of the unified diffs the coder makes, so the conductor can write an
 * approved patch set to the repository without depending on an agent's package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPatch, parsePatch } from 'diff';
import type { Patch } from '@agentmesh/protocol';

/**
 * Applies one unified diff to a text, with the same library the coder diffs with; throws when a
 * hunk's context does not match the file, rather than guessing.
 */
export function applyUnifiedDiffText(text: string, diff: string): string {
  const parsed = parsePatch(diff);
  if (parsed.length !== 1) throw new Error(`expected one file diff, found ${parsed.length}`);
  const result = applyPatch(text, parsed[0]);
  if (result === false) throw new Error('its context does not match the file');
  return result;
}

/** Applies patches to files under a directory, in order; returns the files written. */
export function applyPatchSet(directory: string, patches: readonly Patch[]): string[] {
  const written = new Set<string>();
  const texts = new Map<string, string>();
  for (const patch of patches) {
    const file = path.resolve(directory, patch.file);
    if (path.relative(directory, file).startsWith('..')) throw new Error(`patch for ${patch.file} leaves the workspace`);
    const current = texts.get(file) ?? (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
    try {
      texts.set(file, applyUnifiedDiffText(current, patch.unifiedDiff));
    } catch (error) {
      throw new Error(`patch ${patch.candidateId || patch.taskId} for ${patch.file}: ${(error as Error).message}`);
    }
  }
  // Everything is checked before anything is written, so a bad patch leaves the repository as it was.
  for (const [file, text] of texts) {
    fs.writeFileSync(file, text);
    written.add(path.relative(directory, file));
  }
  return [...written];
}

/** The patch set as one file a person can `git apply`. */
export function formatPatchFile(patches: readonly Patch[]): string {
  return patches.map((patch) => (patch.unifiedDiff.endsWith('\n') ? patch.unifiedDiff : `${patch.unifiedDiff}\n`)).join('');
}
