// The exec policy: turns a request (executable name, argv, cwd, env, write wish, limits) into either
// a concrete plan or a refusal with the rule and reason. It never runs anything; the process sandbox
// runs plans, and dry runs just report them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createDecisionRecorder, type DecisionRecorder, type RefusalRule } from '../decision-recorder';
import {
  BUILTIN_VALIDATORS,
  checkShellSyntax,
  validatePathArguments,
  type ArgumentContext,
  type ArgumentValidator,
  type Refusal,
} from './argument-validators';
import { unwrapCommand } from './command-wrappers';
import { DEFAULT_ENV_ALLOWLIST, deniedEnvReason } from './environment-policy';
import { DEFAULT_SYSTEM_DIRS, DEFAULT_TOOL_DIRS, isBareExecutableName, resolveExecutable, type ResolvedExecutable } from './executable-resolver';
import { mergeLimits } from '../merge-limits';
import { confineToWorkspace } from './path-confinement';

/** Resource limits for one sandboxed process. */
export interface ExecLimits {
  /** CPU seconds (RLIMIT_CPU); the process gets SIGXCPU when it uses them up. */
  readonly cpuSeconds: number;
  /** Address space in bytes (RLIMIT_AS). node reserves a lot of virtual memory: keep this ≥ 2 GiB for node. */
  readonly addressSpaceBytes: number;
  /** Processes and threads (RLIMIT_NPROC); stops fork bombs. Enforced only for a non-root user. */
  readonly maxProcesses: number;
  /** Largest file the process may write (RLIMIT_FSIZE). */
  readonly fileSizeBytes: number;
  /** Wall-clock limit; the whole process group is killed when it passes. */
  readonly wallTimeoutMs: number;
  /** Cap for stdout and for stderr, each. */
  readonly maxOutputBytes: number;
}

export const DEFAULT_EXEC_LIMITS: ExecLimits = {
  cpuSeconds: 60,
  addressSpaceBytes: 4 * 1024 ** 3,
  maxProcesses: 128,
  fileSizeBytes: 64 * 1024 ** 2,
  wallTimeoutMs: 120_000,
  maxOutputBytes: 1024 ** 2,
};

export interface ExecRequest {
  /** A bare executable name from the allowlist (`node`, `tsc`), never a path or a command line. */
  readonly command: string;
  readonly args?: readonly string[];
  /** Working directory, relative to the workspace or absolute inside it. Defaults to the workspace. */
  readonly cwd?: string;
  /** Extra environment; only allowlisted names, never loader hooks. */
  readonly env?: Readonly<Record<string, string>>;
  /** Ask for write access (granted only when the policy granted write for this workspace). */
  readonly write?: boolean;
  /** Tighter limits for this run; a request can lower limits, never raise them past the policy's. */
  readonly limits?: Partial<ExecLimits>;
}

/** What may run, for one executable: its own argument validator, and whether inline eval is allowed. */
export interface ExecutableRule {
  readonly validate?: ArgumentValidator;
  readonly allowInlineEval?: boolean;
}

export interface ExecPolicyOptions {
  /** The workspace every path must stay in. */
  readonly workspace: string;
  /** Allowed executable names, or names with their own rules. */
  readonly allow: readonly string[] | Readonly<Record<string, ExecutableRule>>;
  /** Start with write granted for this workspace (default false: read-only). */
  readonly writeGranted?: boolean;
  /** Let interpreters use inline eval and preloads (`node -e`, `node -r`); default false. */
  readonly allowInlineEval?: boolean;
  /** Environment names a request may set; default {@link DEFAULT_ENV_ALLOWLIST}. */
  readonly envAllowlist?: readonly string[];
  /** Default limits; a request may only lower them. */
  readonly limits?: Partial<ExecLimits>;
  readonly systemDirs?: readonly string[];
  /** Workspace tool directories relative to the workspace; default `node_modules/.bin`. */
  readonly toolDirs?: readonly string[];
  /** Where decisions are logged and counted; share one between sandboxes to merge counts. */
  readonly decisions?: DecisionRecorder;
}

/** A request the policy allows, fully resolved: this is exactly what the sandbox will run. */
export interface ExecPlan {
  readonly allowed: true;
  readonly command: string;
  /** Absolute, realpath'd file to execute. */
  readonly file: string;
  /** Arguments after the file (a shim's script first, then the caller's). */
  readonly args: readonly string[];
  readonly cwd: string;
  readonly workspace: string;
  /** Only the request's allowlisted names (plus a shim's NODE_PATH); the sandbox adds its base env. */
  readonly env: Readonly<Record<string, string>>;
  readonly limits: ExecLimits;
  readonly write: boolean;
  readonly executableSource: ResolvedExecutable['source'];
  /** Why it is allowed, step by step, for dry runs and logs. */
  readonly reasons: readonly string[];
}

export interface ExecRefusal {
  readonly allowed: false;
  readonly command: string;
  readonly rule: RefusalRule;
  readonly reason: string;
}

export type ExecDecision = ExecPlan | ExecRefusal;

export interface ExecPolicy {
  readonly workspace: string;
  readonly writeGranted: boolean;
  readonly decisions: DecisionRecorder;
  /** Decides a request; logs and counts the decision unless `record` is false (the sandbox records after running). */
  evaluate(request: ExecRequest, options?: { readonly dryRun?: boolean; readonly record?: boolean }): ExecDecision;
  /** Grants write for this workspace (the validator calls it once checks pass). */
  grantWrite(): void;
  revokeWrite(): void;
}

/** Creates the read-only-by-default exec policy for one workspace. */
export function createExecPolicy(options: ExecPolicyOptions): ExecPolicy {
  const workspace = realWorkspace(options.workspace);
  const rules: Record<string, ExecutableRule> = Array.isArray(options.allow)
    ? Object.fromEntries((options.allow as readonly string[]).map((name) => [name, {}]))
    : { ...(options.allow as Readonly<Record<string, ExecutableRule>>) };
  const envAllowlist = new Set(options.envAllowlist ?? DEFAULT_ENV_ALLOWLIST);
  const ceiling: ExecLimits = { ...DEFAULT_EXEC_LIMITS, ...options.limits };
  const decisions = options.decisions ?? createDecisionRecorder();
  let writeGranted = options.writeGranted ?? false;

  function decide(request: ExecRequest): ExecDecision {
    const command = request.command;
    const refuse = (refusal: Refusal): ExecRefusal => ({ allowed: false, command, ...refusal });
    if (typeof command !== 'string' || !isBareExecutableName(command)) {
      return refuse({
        rule: 'command-syntax',
        reason: `command must be one bare executable name such as "node"; got ${JSON.stringify(command)} (nothing is parsed by a shell: put arguments in args)`,
      });
    }
    const requestArgs = request.args ?? [];
    if (!Array.isArray(requestArgs) || requestArgs.some((arg) => typeof arg !== 'string' || arg.includes('\0'))) {
      return refuse({ rule: 'request-invalid', reason: 'args must be an array of strings without NUL bytes' });
    }
    const syntax = checkShellSyntax(requestArgs);
    if (syntax) return refuse(syntax);

    const reasons: string[] = [];
    const unwrapped = unwrapCommand(command, requestArgs);
    if ('rule' in unwrapped) return refuse(unwrapped);
    if (unwrapped.unwrapped.length > 0) {
      reasons.push(`unwrapped ${unwrapped.unwrapped.join(' → ')}; checking ${unwrapped.command} as the command`);
    }
    const inner = unwrapped.command;
    if (!isBareExecutableName(inner)) {
      return refuse({ rule: 'command-syntax', reason: `wrapped command must be a bare executable name; got ${JSON.stringify(inner)}` });
    }
    const rule = Object.prototype.hasOwnProperty.call(rules, inner) ? rules[inner] : undefined;
    if (!rule) {
      return refuse({
        rule: 'executable-not-allowed',
        reason: `executable ${JSON.stringify(inner)} is not on this policy's allowlist (${Object.keys(rules).join(', ') || 'empty'})`,
      });
    }
    const resolved = resolveExecutable(inner, {
      workspace,
      systemDirs: options.systemDirs ?? DEFAULT_SYSTEM_DIRS,
      toolDirs: options.toolDirs ?? DEFAULT_TOOL_DIRS,
    });
    if (!resolved.ok) return refuse(resolved);
    const executable = resolved.executable;
    reasons.push(`${inner} is allowlisted and resolves to ${[executable.file, ...executable.prefixArgs].join(' ')} (${executable.source})`);

    const cwdResult = confineToWorkspace(workspace, workspace, request.cwd ?? '.');
    if (!cwdResult.ok) return refuse({ rule: 'cwd-outside-workspace', reason: `cwd: ${cwdResult.reason}` });
    if (!isDirectory(cwdResult.realPath)) {
      return refuse({ rule: 'cwd-outside-workspace', reason: `cwd ${JSON.stringify(request.cwd)} is not a directory in the workspace` });
    }
    const context: ArgumentContext = {
      workspace,
      cwd: cwdResult.realPath,
      allowInlineEval: rule.allowInlineEval ?? options.allowInlineEval ?? false,
    };
    // A shim's tool (tsc, jest) gets the generic checks, not node's: its argv is the tool's own.
    const validator = rule.validate ?? (executable.prefixArgs.length > 0 ? undefined : BUILTIN_VALIDATORS[inner]) ?? validatePathArguments;
    const argumentRefusal = validator(unwrapped.args, context);
    if (argumentRefusal) return refuse(argumentRefusal);
    reasons.push('arguments passed the checks; paths stay inside the workspace');

    const env: Record<string, string> = { ...executable.env };
    for (const [name, value] of Object.entries({ ...unwrapped.envAssignments, ...request.env })) {
      const denied = deniedEnvReason(name);
      if (denied) return refuse({ rule: 'env-denied', reason: denied });
      if (!envAllowlist.has(name)) {
        return refuse({ rule: 'env-not-allowed', reason: `environment variable ${name} is not on the allowlist (${[...envAllowlist].join(', ')})` });
      }
      if (typeof value !== 'string' || value.includes('\0')) return refuse({ rule: 'request-invalid', reason: `environment value for ${name} must be a string` });
      env[name] = value;
    }

    if (request.write && !writeGranted) {
      return refuse({ rule: 'write-not-granted', reason: `write access was requested but has not been granted for workspace ${workspace} (read-only by default)` });
    }
    const limits = execLimits(ceiling, request.limits, unwrapped.timeoutSeconds);
    if (typeof limits === 'string') return refuse({ rule: 'limit-out-of-range', reason: limits });
    reasons.push(request.write ? 'write granted: writes go to a scratch copy of the workspace' : 'read-only workspace');

    return {
      allowed: true,
      command: inner,
      file: executable.file,
      args: [...executable.prefixArgs, ...unwrapped.args],
      cwd: cwdResult.realPath,
      workspace,
      env,
      limits,
      write: request.write === true,
      executableSource: executable.source,
      reasons,
    };
  }

  return {
    workspace,
    get writeGranted() {
      return writeGranted;
    },
    decisions,
    evaluate(request, evaluateOptions = {}) {
      const decision = decide(request);
      const dryRun = evaluateOptions.dryRun ?? false;
      if (evaluateOptions.record !== false || !decision.allowed) {
        const subject = describeRequest(request);
        decisions.record(
          decision.allowed
            ? { outcome: 'allowed', sandbox: 'process', subject, dryRun }
            : { outcome: 'refused', sandbox: 'process', subject, rule: decision.rule, reason: decision.reason, dryRun },
        );
      }
      return decision;
    },
    grantWrite() {
      writeGranted = true;
    },
    revokeWrite() {
      writeGranted = false;
    },
  };
}

/** One-line description of a request for logs: the argv, JSON-quoted so odd characters stay visible. */
export function describeRequest(request: ExecRequest): string {
  return [request.command, ...(request.args ?? [])].map((part) => JSON.stringify(part)).join(' ');
}

function execLimits(ceiling: ExecLimits, requested: Partial<ExecLimits> | undefined, timeoutSeconds: number | undefined): ExecLimits | string {
  const merged = mergeLimits(ceiling, requested, 'exec');
  if (typeof merged === 'string' || timeoutSeconds === undefined) return merged;
  return { ...merged, wallTimeoutMs: Math.min(merged.wallTimeoutMs, Math.max(1, timeoutSeconds * 1000)) };
}

function realWorkspace(workspace: string): string {
  try {
    const real = fs.realpathSync(path.resolve(workspace));
    if (!fs.statSync(real).isDirectory()) throw new Error('not a directory');
    return real;
  } catch (error) {
    throw new Error(`exec policy workspace ${JSON.stringify(workspace)} is not an existing directory: ${(error as Error).message}`);
  }
}

function isDirectory(target: string): boolean {
  try {
    return fs.statSync(target).isDirectory();
  } catch {
    return false;
  }
}
