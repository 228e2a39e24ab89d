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

export interface BubblewrapCommandOptions {
  readonly mount: BubblewrapMount;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** The command to run inside (already wrapped by prlimit when available). */
  readonly argv: readonly string[];
}

/** The bwrap argv (without `bwrap` itself) for one run. */
export function buildBubblewrapArgs(options: BubblewrapCommandOptions): string[] {
  const args = ['--unshare-all', '--new-session', '--die-with-parent', '--clearenv'];
  args.push('--ro-bind', '/usr', '/usr', ...systemLinkArgs());
  for (const entry of ETC_ENTRIES) if (fs.existsSync(entry)) args.push('--ro-bind', entry, entry);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--dir', '/tmp/home');
  const { workspace, scratch, readOnlyOverlays = [] } = options.mount;
  if (scratch) {
    args.push('--bind', scratch, workspace);
    for (const overlay of readOnlyOverlays) args.push('--ro-bind', overlay, overlay);
  } else {
    args.push('--ro-bind', workspace, workspace);
  }
  args.push('--chdir', options.cwd);
  for (const [name, value] of Object.entries(options.env)) args.push('--setenv', name, value);
  args.push('--', ...options.argv);
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
