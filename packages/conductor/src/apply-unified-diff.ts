/**
 * A strict applier of the unified diffs the coder makes, so the conductor can write an
 * approved patch set to the repository without depending on an agent's package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Patch } from '@agentmesh/protocol';

interface Hunk {
  oldStart: number;
  lines: string[];
}

function parseHunks(diff: string): Hunk[] {
  const hunks: Hunk[] = [];
  let current: Hunk | undefined;
  for (const line of diff.split('\n')) {
    const header = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(line);
    if (header) {
      current = { oldStart: Number(header[1]), lines: [] };
      hunks.push(current);
    } else if (current && (line.startsWith(' ') || line.startsWith('+') || line.startsWith('-'))) {
      current.lines.push(line);
    } else if (current && line.startsWith('\\')) {
      // "\ No newline at end of file": the text keeps whatever ending it had.
    }
  }
  return hunks;
}

/**
 * Applies one unified diff to a text; throws when a hunk's context is not where it says
 * (or within a few lines of it), rather than guessing.
 */
export function applyUnifiedDiffText(text: string, diff: string): string {
  const lines = text.split('\n');
  let offset = 0;
  for (const hunk of parseHunks(diff)) {
    const before = hunk.lines.filter((line) => !line.startsWith('+')).map((line) => line.slice(1));
    const after = hunk.lines.filter((line) => !line.startsWith('-')).map((line) => line.slice(1));
    const expected = Math.max(0, hunk.oldStart - 1 + offset - (before.length === 0 ? 0 : 0));
    const start = [0, -1, 1, -2, 2, -3, 3].map((delta) => expected + delta).find((at) => at >= 0 && before.every((line, index) => lines[at + index] === line));
    if (start === undefined) throw new Error(`hunk at line ${hunk.oldStart} does not match the file`);
    lines.splice(start, before.length, ...after);
    offset += after.length - before.length + (start - expected);
  }
  return lines.join('\n');
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
