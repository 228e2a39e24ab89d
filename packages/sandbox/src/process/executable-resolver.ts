// Finds an allowlisted executable in trusted directories only (never the caller's PATH), follows
// symlinks with realpath, and looks through pnpm/npm `.bin` shell shims to the script they run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isWithin } from './path-confinement';

/** System directories searched for executables; their real locations must stay under these roots. */
export const DEFAULT_SYSTEM_DIRS: readonly string[] = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
const SYSTEM_ROOTS: readonly string[] = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/etc/alternatives'];

/** Workspace tool directories, relative to the workspace. */
export const DEFAULT_TOOL_DIRS: readonly string[] = ['node_modules/.bin'];

export interface ResolvedExecutable {
  /** The name the request asked for. */
  readonly name: string;
  /** The absolute, realpath'd file that will be executed. */
  readonly file: string;
  /** Arguments placed before the caller's (the script of a `.bin` shim run by node directly). */
  readonly prefixArgs: readonly string[];
  /** Where it was found: a system directory or a workspace tool directory. */
  readonly source: 'system' | 'workspace-tool';
  /** Extra environment a shim would have set (pnpm's NODE_PATH), already confined to the workspace. */
  readonly env: Readonly<Record<string, string>>;
}

export interface ExecutableResolverOptions {
  /** The workspace, already realpath'd. */
  readonly workspace: string;
  readonly systemDirs?: readonly string[];
  readonly toolDirs?: readonly string[];
}

export type ResolveResult =
  | { readonly ok: true; readonly executable: ResolvedExecutable }
  | { readonly ok: false; readonly rule: 'executable-not-found' | 'untrusted-executable'; readonly reason: string };

const BARE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** True when `name` is a bare executable name (no path, no spaces, no shell syntax). */
export function isBareExecutableName(name: string): boolean {
  return BARE_NAME.test(name);
}

/** Resolves an executable name to an absolute trusted file; workspace tools first, then system directories. */
export function resolveExecutable(name: string, options: ExecutableResolverOptions): ResolveResult {
  const toolDirs = (options.toolDirs ?? DEFAULT_TOOL_DIRS).map((dir) => path.resolve(options.workspace, dir));
  const systemDirs = options.systemDirs ?? DEFAULT_SYSTEM_DIRS;
  const searched: string[] = [];
  const candidates = [
    ...toolDirs.map((dir) => ({ dir, source: 'workspace-tool' as const })),
    ...systemDirs.map((dir) => ({ dir, source: 'system' as const })),
  ];
  for (const { dir, source } of candidates) {
    const candidate = path.join(dir, name);
    searched.push(dir);
    let real: string;
    try {
      real = fs.realpathSync(candidate);
    } catch {
      continue;
    }
    const stat = fs.statSync(real);
    if (!stat.isFile() || (stat.mode & 0o111) === 0) continue;
    const roots = source === 'system' ? SYSTEM_ROOTS : [options.workspace];
    // An untrusted first match stops the search: falling through would silently run a different program.
    if (!roots.some((root) => isWithin(root, real))) {
      return { ok: false, rule: 'untrusted-executable', reason: `${candidate} resolves to ${real}, outside the trusted roots ${roots.join(', ')}` };
    }
    if ((stat.mode & 0o002) !== 0) {
      return { ok: false, rule: 'untrusted-executable', reason: `${real} is world-writable, so anyone could have replaced it` };
    }
    const shim = source === 'workspace-tool' ? readNodeShim(real, options) : undefined;
    if (shim) {
      const node = resolveExecutable('node', { ...options, toolDirs: [] });
      if (!node.ok) return node;
      return {
        ok: true,
        executable: { name, file: node.executable.file, prefixArgs: [shim.script], source, env: shim.env },
      };
    }
    return { ok: true, executable: { name, file: real, prefixArgs: [], source, env: {} } };
  }
  return {
    ok: false,
    rule: 'executable-not-found',
    reason: `executable ${JSON.stringify(name)} was not found in the trusted directories ${searched.join(', ')} (the caller's PATH is never searched)`,
  };
}

interface NodeShim {
  readonly script: string;
  readonly env: Record<string, string>;
}

const SHIM_EXEC = /exec\s+node\s+"\$basedir\/([^"]+)"\s+"\$@"/;
const SHIM_NODE_PATH = /export NODE_PATH="([^"$]*)"/;

/**
 * pnpm and npm write `.bin` entries as `/bin/sh` shims that `exec node <script>`. Running them would
 * mean running a shell; instead the script is run by node directly, with the shim's NODE_PATH.
 */
function readNodeShim(file: string, options: ExecutableResolverOptions): NodeShim | undefined {
  let head: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(4096);
      const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, read).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (!head.startsWith('#!/bin/sh')) return undefined;
  const match = SHIM_EXEC.exec(head);
  if (!match?.[1]) return undefined;
  let script: string;
  try {
    script = fs.realpathSync(path.resolve(path.dirname(file), match[1]));
  } catch {
    return undefined;
  }
  if (!isWithin(options.workspace, script)) return undefined;
  const env: Record<string, string> = {};
  const nodePath = SHIM_NODE_PATH.exec(head)?.[1];
  if (nodePath) {
    const entries = nodePath.split(':').filter((entry) => path.isAbsolute(entry) && isWithin(options.workspace, entry));
    if (entries.length > 0) env.NODE_PATH = entries.join(':');
  }
  return { script, env };
}
