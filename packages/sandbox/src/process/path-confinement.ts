// realpath-based confinement: a path is inside the workspace only if its real location is,
// so `..`, absolute paths and symlinks that leave the workspace are all caught by one check.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** True when `candidate` is `root` or lies below it (both already absolute and normalised). */
export function isWithin(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  if (relative === '') return true;
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/**
 * Resolves a path through realpath even when its last parts do not exist yet (an output file, say):
 * the longest existing prefix is realpath'd and the rest appended, so a symlinked parent still counts.
 */
export function realpathLenient(target: string): string {
  const absolute = path.resolve(target);
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      const real = fs.realpathSync(current);
      return missing.length === 0 ? real : path.join(real, ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A dangling symlink is refused rather than followed blindly: where it points may change later.
      if (code === 'ENOENT' && isDanglingSymlink(current)) {
        throw new Error(`path ${JSON.stringify(target)} goes through a dangling symlink at ${current}`);
      }
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

function isDanglingSymlink(candidate: string): boolean {
  try {
    return fs.lstatSync(candidate).isSymbolicLink();
  } catch {
    return false;
  }
}

export type ConfinementResult =
  | { readonly ok: true; readonly realPath: string }
  | { readonly ok: false; readonly reason: string };

/** Resolves `target` (relative to `base`) and says whether its real location stays in `workspaceRealPath`. */
export function confineToWorkspace(workspaceRealPath: string, base: string, target: string): ConfinementResult {
  let realPath: string;
  try {
    realPath = realpathLenient(path.resolve(base, target));
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (!isWithin(workspaceRealPath, realPath)) {
    const lexical = path.resolve(base, target);
    const how = isWithin(workspaceRealPath, lexical) ? ' through a symlink' : '';
    return {
      ok: false,
      reason: `path ${JSON.stringify(target)} resolves${how} to ${realPath}, outside the workspace ${workspaceRealPath}`,
    };
  }
  return { ok: true, realPath };
}
