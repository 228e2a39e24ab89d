/**
 * Unified diffs in the one shape agentmesh passes around: `--- a/<file>` / `+++ b/<file>`
 * headers, paths relative to the workspace root, made and applied with the `diff` package.
 */
import { applyPatch, createTwoFilesPatch, parsePatch } from 'diff';

/** Makes the unified diff that turns `before` into `after` for one workspace file. */
export function createUnifiedDiff(file: string, before: string, after: string, context = 3): string {
  const patch = createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, undefined, undefined, { context });
  // createTwoFilesPatch opens with an "Index"-style "====" rule; the headers are all we want.
  return patch.slice(patch.indexOf('--- '));
}

/** Splits a unified diff into its hunks (each starting at `@@`), for streaming them one by one. */
export function splitHunks(unifiedDiff: string): string[] {
  const lines = unifiedDiff.split('\n');
  const hunks: string[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.startsWith('@@')) {
      if (current) hunks.push(current.join('\n') + '\n');
      current = [line];
    } else if (current && line !== '') {
      current.push(line);
    }
  }
  if (current) hunks.push(current.join('\n') + '\n');
  return hunks;
}

/** Applies a unified diff to a file's text; throws, naming the file, when a hunk does not fit. */
export function applyUnifiedDiff(file: string, text: string, unifiedDiff: string): string {
  const parsed = parsePatch(unifiedDiff);
  if (parsed.length !== 1) throw new Error(`patch for ${file} must hold exactly one file diff, found ${parsed.length}`);
  const result = applyPatch(text, parsed[0]);
  if (result === false) throw new Error(`patch does not apply to ${file}: its context does not match the file`);
  return result;
}

/** The workspace-relative file a diff names in its `+++ b/` (or `--- a/`) header. */
export function diffTarget(unifiedDiff: string): string | undefined {
  const [parsed] = parsePatch(unifiedDiff);
  const name = parsed?.newFileName && parsed.newFileName !== '/dev/null' ? parsed.newFileName : parsed?.oldFileName;
  return name?.replace(/^[ab]\//, '');
}
