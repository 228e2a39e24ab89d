// Wrapper programs (env, timeout, nice, sh, xargs, ...) run another program named in their own
// argv, which is how allowlists get bypassed (`env -S`, `sh -c`). Shells and command builders are
// refused outright; simple wrappers are unwrapped so the inner command meets the same checks.
import type { Refusal } from './argument-validators';

/** Shells: never run, whatever follows (`sh -c`, `bash -lc`, a script). */
export const SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'csh', 'tcsh', 'fish', 'busybox', 'rbash', 'pwsh']);

/** Programs that run other programs in ways the policy cannot check; always refused. */
export const UNCHECKABLE_WRAPPERS: ReadonlySet<string> = new Set([
  'xargs', 'parallel', 'sudo', 'su', 'doas', 'runuser', 'pkexec', 'setsid', 'setpriv', 'chroot', 'unshare', 'nsenter',
  'script', 'strace', 'ltrace', 'gdb', 'watch', 'flock', 'stdbuf', 'ionice', 'chrt', 'taskset', 'capsh', 'ssh',
  'eval', 'exec', 'command', 'builtin', 'systemd-run', 'at', 'batch', 'expect',
]);

export interface UnwrappedCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** NAME=VALUE pairs an `env` wrapper would have set; they meet the environment allowlist. */
  readonly envAssignments: Readonly<Record<string, string>>;
  /** The tightest `timeout` duration seen, in seconds; the wall limit is lowered to it. */
  readonly timeoutSeconds?: number;
  /** The wrappers removed, outermost first, for the dry-run explanation. */
  readonly unwrapped: readonly string[];
}

const MAX_DEPTH = 4;
const DURATION = /^(\d+(?:\.\d+)?)([smhd]?)$/;
const ENV_ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Peels env/timeout/nice/nohup/time off a command and refuses shells and uncheckable wrappers. */
export function unwrapCommand(command: string, args: readonly string[]): UnwrappedCommand | Refusal {
  let current = command;
  let rest = [...args];
  const envAssignments: Record<string, string> = {};
  const unwrapped: string[] = [];
  let timeoutSeconds: number | undefined;
  for (let depth = 0; ; depth++) {
    if (SHELLS.has(current)) {
      return { rule: 'shell', reason: `${current} is a shell; the sandbox runs argv directly and never hands a command line to a shell` };
    }
    if (UNCHECKABLE_WRAPPERS.has(current)) {
      return { rule: 'wrapper', reason: `${current} runs other programs or code the policy cannot check; name the inner command directly` };
    }
    const step = unwrapOne(current, rest);
    if (step === undefined) break;
    if ('rule' in step) return step;
    if (depth >= MAX_DEPTH) return { rule: 'wrapper', reason: `more than ${MAX_DEPTH} nested wrappers` };
    unwrapped.push(current);
    Object.assign(envAssignments, step.env ?? {});
    if (step.timeoutSeconds !== undefined) timeoutSeconds = Math.min(timeoutSeconds ?? Infinity, step.timeoutSeconds);
    const [inner, ...innerArgs] = step.inner;
    if (inner === undefined) return { rule: 'wrapper', reason: `${current} was given no command to run` };
    current = inner;
    rest = innerArgs;
  }
  return { command: current, args: rest, envAssignments, ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }), unwrapped };
}

interface Step {
  readonly inner: readonly string[];
  readonly env?: Record<string, string>;
  readonly timeoutSeconds?: number;
}

function unwrapOne(command: string, args: readonly string[]): Step | Refusal | undefined {
  switch (command) {
    case 'env': {
      const env: Record<string, string> = {};
      let index = 0;
      for (; index < args.length; index++) {
        const arg = args[index]!;
        if (arg.startsWith('-')) {
          return {
            rule: 'wrapper',
            reason: `env option ${JSON.stringify(arg)} is refused (env -S/--split-string re-splits a string into a new command line after the check; -i/-u/-C change what the inner command sees)`,
          };
        }
        const match = ENV_ASSIGNMENT.exec(arg);
        if (!match) break;
        env[match[1]!] = match[2]!;
      }
      return { inner: args.slice(index), env };
    }
    case 'timeout': {
      let index = 0;
      for (; index < args.length && args[index]!.startsWith('-'); index++) {
        const arg = args[index]!;
        if (arg === '--') {
          index++;
          break;
        }
        if (arg === '-s' || arg === '-k' || arg === '--signal' || arg === '--kill-after') index++;
      }
      const duration = DURATION.exec(args[index] ?? '');
      if (!duration) return { rule: 'wrapper', reason: `timeout needs a duration such as 5s before the command; got ${JSON.stringify(args[index] ?? '')}` };
      const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[duration[2] as '' | 's' | 'm' | 'h' | 'd'];
      return { inner: args.slice(index + 1), timeoutSeconds: Number(duration[1]) * unit };
    }
    case 'nice': {
      let index = 0;
      if (args[0] === '-n' || args[0] === '--adjustment') index = 2;
      else if (args[0] !== undefined && (/^-\d+$/.test(args[0]) || args[0].startsWith('--adjustment='))) index = 1;
      return { inner: args.slice(index) };
    }
    case 'nohup':
    case 'time':
      if (args[0] === '--') return { inner: args.slice(1) };
      if (args[0]?.startsWith('-')) return { rule: 'wrapper', reason: `${command} options such as ${JSON.stringify(args[0])} are refused; name the inner command directly` };
      return { inner: args };
    default:
      return undefined;
  }
}
