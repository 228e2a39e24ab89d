// Per-executable argument checks. The sandbox never uses a shell, so these guard against the
// other ways an argv can smuggle a second program in: shell syntax that would only matter if some
// later layer re-parsed it, interpreter inline eval, preloads, and paths that leave the workspace.
import * as fs from 'node:fs';
import type { RefusalRule } from '../decision-recorder';
import { confineToWorkspace } from './path-confinement';

export interface Refusal {
  readonly rule: RefusalRule;
  readonly reason: string;
}

export interface ArgumentContext {
  /** The workspace, realpath'd. */
  readonly workspace: string;
  /** The run's working directory, realpath'd and inside the workspace. */
  readonly cwd: string;
  /** The policy lets interpreters evaluate inline code and preload modules. */
  readonly allowInlineEval: boolean;
}

/** Checks an argv (without the executable); returns a refusal, or undefined when it passes. */
export type ArgumentValidator = (args: readonly string[], context: ArgumentContext) => Refusal | undefined;

const SHELL_OPERATORS = new Set([';', ';;', '&', '&&', '|', '||', '|&', '>', '>>', '<', '<<', '<<<', '2>', '2>>', '&>', '2>&1', '>&2', '(', ')', '{', '}']);
const CHAINING_INSIDE = /(^|\s)(;|&&|\|\||\||&)(\s|$)/;

/** Paths outside the workspace that are harmless to name. */
const HARMLESS_PATHS = new Set(['/dev/null']);

/**
 * Refuses argv elements that only make sense to a shell: operators, command substitution, heredocs.
 * Globs and `$VAR` are not refused: no shell ever sees them, so they reach the program literally.
 */
export function checkShellSyntax(args: readonly string[]): Refusal | undefined {
  for (const arg of args) {
    if (SHELL_OPERATORS.has(arg)) {
      return {
        rule: 'shell-syntax',
        reason: `argument ${JSON.stringify(arg)} is a shell operator; commands run as argv without a shell, so chaining, pipes and redirection are refused`,
      };
    }
    if (arg.includes('$(') || arg.includes('`')) {
      return {
        rule: 'shell-syntax',
        reason: `argument ${JSON.stringify(arg)} contains command substitution ($(...) or backticks); refused so no later layer can expand it`,
      };
    }
    if (arg.startsWith('<<') || CHAINING_INSIDE.test(arg)) {
      return {
        rule: 'shell-syntax',
        reason: `argument ${JSON.stringify(arg)} contains shell chaining or a heredoc; pass each command as its own request`,
      };
    }
  }
  return undefined;
}

/** Confines one path-like value to the workspace (relative to the run's cwd). */
export function checkPathArgument(value: string, context: ArgumentContext): Refusal | undefined {
  if (value === '' || HARMLESS_PATHS.has(value)) return undefined;
  const confined = confineToWorkspace(context.workspace, context.cwd, value);
  return confined.ok ? undefined : { rule: 'path-outside-workspace', reason: confined.reason };
}

/**
 * The default validator for any executable: every operand and every `--option=value` value is
 * treated as a path and must resolve inside the workspace. Plain words resolve inside cwd and pass.
 */
export const validatePathArguments: ArgumentValidator = (args, context) => {
  for (const arg of args) {
    if (arg === '-' || arg === '--') continue;
    const value = arg.startsWith('-') ? (arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined) : arg;
    if (value === undefined) continue;
    const refusal = checkPathArgument(value, context);
    if (refusal) return refusal;
  }
  return undefined;
};

const NODE_EVAL_OPTIONS = new Set(['-e', '--eval', '-p', '--print', '-i', '--interactive']);
const NODE_PRELOAD_OPTIONS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);
/** node options that are harmless for a sandboxed script; anything else before the script is refused. */
const NODE_ALLOWED_FLAGS = new Set([
  '--no-warnings',
  '--no-deprecation',
  '--trace-warnings',
  '--trace-uncaught',
  '--enable-source-maps',
  '--expose-gc',
  '--test',
  '--no-node-snapshot',
  '--experimental-vm-modules',
  '--frozen-intrinsics',
  '--jitless',
  '--preserve-symlinks',
  '--abort-on-uncaught-exception',
]);
const NODE_ALLOWED_VALUED = new Set([
  '--max-old-space-size',
  '--max-semi-space-size',
  '--stack-size',
  '--stack-trace-limit',
  '--unhandled-rejections',
  '--disable-proto',
  '--test-reporter',
  '--test-name-pattern',
  '--conditions',
  '--input-type',
]);

/**
 * node: the first operand is the script and must be a file inside the workspace; inline eval
 * (`-e`, `-p`), preloads (`-r`, `--require`, `--import`, `--loader`) and stdin scripts are refused
 * unless the policy allows inline eval; other node options must be on a short allowlist.
 */
export const validateNodeArguments: ArgumentValidator = (args, context) => {
  let index = 0;
  let inlineCode = false;
  for (; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '--') {
      index++;
      break;
    }
    if (!arg.startsWith('-')) break;
    if (arg === '-') {
      return refuseInline(context, `node reading a script from stdin ("-")`) ?? { rule: 'inline-eval', reason: 'node cannot read its script from stdin here' };
    }
    const [flag, inlineValue] = splitOption(arg);
    const shortCluster = /^-[a-zA-Z]{2,}$/.test(arg) ? arg.slice(1).split('') : undefined;
    if (NODE_EVAL_OPTIONS.has(flag) || shortCluster?.some((letter) => 'epi'.includes(letter))) {
      const refusal = refuseInline(context, `node inline evaluation (${arg})`);
      if (refusal) return refusal;
      inlineCode = true;
      if (inlineValue === undefined && flag !== '-i' && flag !== '--interactive') index++;
      continue;
    }
    if (NODE_PRELOAD_OPTIONS.has(flag) || shortCluster?.includes('r')) {
      const refusal = refuseInline(context, `node preloading a module (${arg})`);
      if (refusal) return refusal;
      const moduleArg = inlineValue ?? args[++index];
      if (moduleArg === undefined) return { rule: 'request-invalid', reason: `${flag} needs a module argument` };
      const pathRefusal = checkPathArgument(moduleArg, context);
      if (pathRefusal) return pathRefusal;
      continue;
    }
    if (flag === '--env-file' || flag.startsWith('--inspect') || flag === '--experimental-policy' || flag === '--experimental-permission') {
      return {
        rule: 'option-not-allowed',
        reason: `node option ${flag} is refused: it can load environment (NODE_OPTIONS), open a debugger or change the security model`,
      };
    }
    if (NODE_ALLOWED_FLAGS.has(flag) && inlineValue === undefined) continue;
    if (NODE_ALLOWED_VALUED.has(flag)) {
      if (inlineValue === undefined) index++;
      continue;
    }
    return { rule: 'option-not-allowed', reason: `node option ${JSON.stringify(arg)} is not on the sandbox's allowlist of node options` };
  }
  const script = args[index];
  if (script === undefined) {
    if (inlineCode) return undefined;
    return { rule: 'inline-eval', reason: 'node without a script would start a REPL or read code from stdin; name a script inside the workspace' };
  }
  if (!inlineCode) {
    const confined = confineToWorkspace(context.workspace, context.cwd, script);
    if (!confined.ok) return { rule: 'script-outside-workspace', reason: `node script: ${confined.reason}` };
    if (!isFile(confined.realPath)) {
      return { rule: 'script-outside-workspace', reason: `node script ${JSON.stringify(script)} is not a file in the workspace` };
    }
    index++;
  }
  return validatePathArguments(args.slice(index), context);
};

/** find: its -exec family runs other programs unchecked, and -delete/-fprint write. */
export const validateFindArguments: ArgumentValidator = (args, context) => {
  for (const arg of args) {
    if (['-exec', '-execdir', '-ok', '-okdir'].includes(arg)) {
      return { rule: 'wrapper', reason: `find ${arg} runs another program that the policy cannot check` };
    }
    if (['-delete', '-fprint', '-fprint0', '-fprintf', '-fls'].includes(arg)) {
      return { rule: 'option-not-allowed', reason: `find ${arg} writes or deletes files` };
    }
  }
  return validatePathArguments(args.filter((arg) => !arg.startsWith('-')), context);
};

/** The validators used for executables that have no rule of their own. */
export const BUILTIN_VALIDATORS: Readonly<Record<string, ArgumentValidator>> = {
  node: validateNodeArguments,
  find: validateFindArguments,
};

function refuseInline(context: ArgumentContext, what: string): Refusal | undefined {
  if (context.allowInlineEval) return undefined;
  return { rule: 'inline-eval', reason: `${what} is refused: code must come from a file inside the workspace unless the policy allows inline eval` };
}

function splitOption(arg: string): [string, string | undefined] {
  const equals = arg.indexOf('=');
  return equals === -1 ? [arg, undefined] : [arg.slice(0, equals), arg.slice(equals + 1)];
}

function isFile(target: string): boolean {
  try {
    return fs.statSync(target).isFile();
  } catch {
    return false;
  }
}
