// Builds the bwrap and prlimit argv that wrap a plan: system directories read-only, the workspace
// read-only (or a scratch copy bound writable in its place), fresh /tmp, no network, no inherited env.
import * as fs from 'node:fs';
import { systemLinkArgs } from './detect-isolation';
import type { ExecLimits } from './exec-policy';

/** /etc entries programs need (loader cache, users, TLS roots, time zone); the rest of /etc stays hidden. */
const ETC_ENTRIES = [
  '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/passwd', '/etc/group', '/etc/nsswitch.conf',
  '/etc/hosts', '/etc/localtime', '/etc/ssl', '/etc/ca-certificates', '/etc/alternatives', '/etc/os-release', '/etc/mime.types',
];

export interface BubblewrapMount {
  /** Real path of the workspace: it is mounted at the same path inside. */
  readonly workspace: string;
  /** A writable scratch copy bound over the workspace path; absent for read-only runs. */
  readonly scratch?: string;
  /** Directories left out of the scratch copy (node_modules), bound read-only from the original. */
  readonly readOnlyOverlays?: readonly string[];
}

/**
 * When the caller is root: bwrap itself runs as root (so it can resolve bind sources anywhere, even under
 * directories only root may enter) without a user namespace, and the command inside drops to this uid with
 * setpriv. The command's real uid is then unprivileged in the host namespace, which is what makes
 * RLIMIT_NPROC hold (the kernel does not apply it to uid 0, and a user namespace maps the inside uid back to 0).
 */
export interface BubblewrapDrop {
  readonly uid: number;
  readonly gid: number;
  /** Absolute path of setpriv (util-linux). */
  readonly setpriv: string;
}

export interface BubblewrapCommandOptions {
  readonly mount: BubblewrapMount;
  /** Drop to an unprivileged uid inside (root callers only). */
  readonly drop?: BubblewrapDrop;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** The command to run inside (already wrapped by prlimit when available). */
  readonly argv: readonly string[];
}

/** The bwrap argv (without `bwrap` itself) for one run. */
export function buildBubblewrapArgs(options: BubblewrapCommandOptions): string[] {
  const { drop } = options;
  // Root without a user namespace (see BubblewrapDrop); everyone else lets bwrap make one.
  const unshare = drop ? ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try'] : ['--unshare-all'];
  const args = [...unshare, '--new-session', '--die-with-parent', '--clearenv'];
  args.push('--ro-bind', '/usr', '/usr', ...systemLinkArgs());
  if (drop) args.push('--perms', '0755', '--dir', '/etc');
  for (const entry of ETC_ENTRIES) if (fs.existsSync(entry)) args.push('--ro-bind', entry, entry);
  // /tmp and HOME are writable by whoever runs inside (bwrap makes them as root when it runs as root).
  args.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/tmp', '--perms', '0777', '--dir', '/tmp/home');
  const { workspace, scratch, readOnlyOverlays = [] } = options.mount;
  // bwrap running as root makes the missing parents of a mount point private; the dropped uid must traverse them.
  if (drop) args.push(...traversableParents(workspace));
  if (scratch) {
    args.push('--bind', scratch, workspace);
    for (const overlay of readOnlyOverlays) args.push('--ro-bind', overlay, overlay);
  } else {
    args.push('--ro-bind', workspace, workspace);
  }
  args.push('--chdir', options.cwd);
  for (const [name, value] of Object.entries(options.env)) args.push('--setenv', name, value);
  const dropArgv = drop ? [drop.setpriv, `--reuid=${drop.uid}`, `--regid=${drop.gid}`, '--clear-groups', '--no-new-privs', '--'] : [];
  args.push('--', ...dropArgv, ...options.argv);
  return args;
}

/** `--perms 0755 --dir` for each ancestor of a mount point below the fixed mounts (/, /tmp). */
function traversableParents(target: string): string[] {
  const args: string[] = [];
  const parts = target.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const dir = '/' + parts.slice(0, i).join('/');
    if (dir === '/tmp' || dir === '/usr' || dir === '/proc' || dir === '/dev') continue;
    args.push('--perms', '0755', '--dir', dir);
  }
  return args;
}

/** The prlimit argv prefix for a run's rlimits (CPU gets one second of SIGXCPU grace before SIGKILL). */
export function buildPrlimitArgs(prlimit: string, limits: ExecLimits): string[] {
  const cpu = Math.max(1, Math.ceil(limits.cpuSeconds));
  return [
    prlimit,
    `--cpu=${cpu}:${cpu + 1}`,
    `--as=${Math.floor(limits.addressSpaceBytes)}`,
    `--nproc=${Math.floor(limits.maxProcesses)}`,
    `--fsize=${Math.floor(limits.fileSizeBytes)}`,
    '--core=0',
    '--',
  ];
}
