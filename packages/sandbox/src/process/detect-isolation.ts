// Reports which isolation this machine offers (bubblewrap, prlimit, an unprivileged uid, isolated-vm,
// Docker) and why not when something is missing, by actually trying each; `agentmesh doctor` prints it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface IsolationCapability {
  readonly available: boolean;
  /** What was found, or why it is not available. */
  readonly reason: string;
  readonly path?: string;
  readonly version?: string;
}

export interface IsolationReport {
  readonly bubblewrap: IsolationCapability;
  readonly prlimit: IsolationCapability;
  /** Whether sandboxed processes run as an unprivileged uid (root can drop to nobody; RLIMIT_NPROC needs it). */
  readonly unprivilegedUser: IsolationCapability & { readonly uid?: number; readonly gid?: number };
  readonly isolatedVm: IsolationCapability;
  readonly docker: IsolationCapability;
  /** What the process sandbox will use. */
  readonly processIsolation: 'bubblewrap' | 'none';
  readonly summary: string;
}

export interface DetectIsolationOptions {
  /** Probe `docker info` too (takes up to a few seconds when a daemon is configured but down). Default true. */
  readonly docker?: boolean;
  /** Ignore the cached answer. */
  readonly refresh?: boolean;
}

/** The uid/gid sandboxed processes drop to when the caller is root (nobody/nogroup on Debian). */
export const UNPRIVILEGED_UID = 65534;
export const UNPRIVILEGED_GID = 65534;

let cached: IsolationReport | undefined;

/** Says what isolation is available here and why anything is not, for the doctor command and for sandbox setup. */
export function detectIsolation(options: DetectIsolationOptions = {}): IsolationReport {
  if (cached && !options.refresh && (options.docker === false || cached.docker.reason !== 'not probed')) return cached;
  const unprivilegedUser = detectUnprivilegedUser();
  const bubblewrap = detectBubblewrap(unprivilegedUser.available ? unprivilegedUser : undefined);
  const prlimit = findExecutable('prlimit')
    ? { available: true, reason: 'prlimit (util-linux) sets CPU, address-space, process and file-size rlimits', path: findExecutable('prlimit')! }
    : { available: false, reason: 'prlimit not found in /usr/bin or /bin (install util-linux); only the wall timeout and output caps apply' };
  const report: IsolationReport = {
    bubblewrap,
    prlimit,
    unprivilegedUser,
    isolatedVm: detectIsolatedVm(),
    docker: options.docker === false ? { available: false, reason: 'not probed' } : detectDocker(),
    processIsolation: bubblewrap.available ? 'bubblewrap' : 'none',
    summary: bubblewrap.available
      ? 'process sandbox: bubblewrap (namespaces, no network, read-only system and workspace)'
      : `process sandbox: REDUCED ISOLATION, plain child processes (${bubblewrap.reason})`,
  };
  cached = report;
  return report;
}

/** Finds a system executable without consulting PATH. */
export function findExecutable(name: string): string | undefined {
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin']) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function detectUnprivilegedUser(): IsolationReport['unprivilegedUser'] {
  const uid = process.getuid?.();
  if (uid === undefined) return { available: false, reason: 'no POSIX uids on this platform' };
  if (uid !== 0) return { available: true, reason: `already unprivileged (uid ${uid})`, uid, gid: process.getgid?.() ?? uid };
  return { available: true, reason: `running as root: sandboxed processes drop to uid ${UNPRIVILEGED_UID}`, uid: UNPRIVILEGED_UID, gid: UNPRIVILEGED_GID };
}

function detectBubblewrap(user: { uid?: number; gid?: number } | undefined): IsolationCapability {
  const file = findExecutable('bwrap');
  if (!file) return { available: false, reason: 'bwrap not found (apt-get install bubblewrap)' };
  const version = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 5000 }).stdout?.trim();
  // Probe the way runs use it: a root caller runs bwrap as root without a user namespace and drops inside
  // with setpriv (see BubblewrapDrop); without setpriv, bwrap itself runs as the unprivileged user.
  const root = process.getuid?.() === 0;
  const setpriv = root ? findExecutable('setpriv') : undefined;
  const unshare = setpriv ? ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try'] : ['--unshare-all'];
  const inner = setpriv && user?.uid !== undefined ? [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--'] : [];
  const probe = spawnSync(
    file,
    [...unshare, '--die-with-parent', '--new-session', '--ro-bind', '/usr', '/usr', ...systemLinkArgs(), '--proc', '/proc', '--dev', '/dev', '--', ...inner, '/usr/bin/true'],
    { encoding: 'utf8', timeout: 10_000, env: {}, ...(!setpriv && user?.uid !== undefined && root ? { uid: user.uid, gid: user.gid } : {}) },
  );
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.message ?? (probe.stderr.trim() || `exit status ${String(probe.status)}`);
    return { available: false, reason: `bwrap is installed but cannot create namespaces here: ${why}`, path: file, ...(version ? { version } : {}) };
  }
  return { available: true, reason: 'bwrap can create user, pid, network and mount namespaces', path: file, ...(version ? { version } : {}) };
}

/** `--symlink`/`--ro-bind` arguments for the top-level system directories, matching the host's layout. */
export function systemLinkArgs(): string[] {
  const args: string[] = [];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']) {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(dir), dir);
    else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  return args;
}

function detectIsolatedVm(): IsolationCapability {
  try {
    const entry = require.resolve('isolated-vm');
    const built = path.join(path.dirname(entry), 'out', 'isolated_vm.node');
    if (!fs.existsSync(built)) return { available: false, reason: `isolated-vm is installed but not built (${built} missing; approve it in onlyBuiltDependencies)` };
    return { available: true, reason: 'isolated-vm is built; isolates run in a separate host process under --no-node-snapshot', path: entry };
  } catch (error) {
    return { available: false, reason: `isolated-vm cannot be resolved: ${(error as Error).message}` };
  }
}

function detectDocker(): IsolationCapability {
  const file = findExecutable('docker');
  if (!file) return { available: false, reason: 'no Docker engine: docker CLI not installed' };
  const info = spawnSync(file, ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 8000 });
  if (info.error || info.status !== 0) {
    const why = info.error?.message ?? (info.stderr.trim().split('\n').pop() || `exit status ${String(info.status)}`);
    return { available: false, reason: `no Docker engine: docker info failed: ${why}`, path: file };
  }
  return { available: true, reason: `Docker engine ${info.stdout.trim()}`, path: file, version: info.stdout.trim() };
}
