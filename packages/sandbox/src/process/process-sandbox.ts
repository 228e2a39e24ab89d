// Runs exec-policy plans as child processes: under bubblewrap when it works here, else as a plain
// child with the same checks and limits and a loud warning. Never through a shell.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { createCappedOutput } from '../capped-output';
import type { DecisionRecorder, LimitKind } from '../decision-recorder';
import { getSandboxLogger } from '../logger';
import { buildBubblewrapArgs, buildPrlimitArgs } from './bubblewrap-command';
import { detectIsolation, findExecutable, type IsolationReport } from './detect-isolation';
import { baseEnvironment } from './environment-policy';
import { createExecPolicy, describeRequest, type ExecLimits, type ExecPlan, type ExecPolicy, type ExecPolicyOptions, type ExecRefusal, type ExecRequest } from './exec-policy';
import { isWithin } from './path-confinement';

export interface ProcessSandboxOptions {
  /** An existing policy, or options to create one. */
  readonly policy: ExecPolicy | ExecPolicyOptions;
  /** `auto` (default): bubblewrap when it works; `none` forces plain children; `bubblewrap` fails without it. */
  readonly isolation?: 'auto' | 'bubblewrap' | 'none';
  /** Directory names left out of scratch copies and bound read-only instead. Default node_modules and .git. */
  readonly scratchExclude?: readonly string[];
  /** Where scratch copies go; default the OS temp dir. */
  readonly scratchRoot?: string;
  readonly logger?: Logger;
}

export interface ProcessRunOptions {
  readonly signal?: AbortSignal;
  /** Bytes written to the child's stdin, then closed. Default: no stdin. */
  readonly stdin?: string;
}

export interface ProcessResult {
  /** Exit code 0 and not killed. */
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The limit that ended the run, if one did. */
  readonly killedBy?: LimitKind;
  readonly aborted: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  readonly durationMs: number;
  readonly isolation: 'bubblewrap' | 'none';
  /** Where writes went, for a write run; the caller reads and removes it. */
  readonly scratchDir?: string;
  readonly plan: ExecPlan;
  readonly warnings: readonly string[];
}

export type ProcessRunOutcome = ({ readonly allowed: true } & ProcessResult) | ExecRefusal;

/** What would run, and how, without running it. */
export type ProcessDryRun =
  | (ExecPlan & { readonly isolation: 'bubblewrap' | 'none'; readonly spawn: { readonly file: string; readonly args: readonly string[] }; readonly warnings: readonly string[] })
  | ExecRefusal;

export interface ProcessSandbox {
  readonly policy: ExecPolicy;
  readonly decisions: DecisionRecorder;
  readonly isolation: IsolationReport;
  /** Checks the request and, if allowed, runs it under the limits; refusals come back, not thrown. */
  run(request: ExecRequest, options?: ProcessRunOptions): Promise<ProcessRunOutcome>;
  /** Answers what would run, with which limits and wrapping, and why, without running anything. */
  dryRun(request: ExecRequest): ProcessDryRun;
}

const REDUCED_ISOLATION_WARNING =
  'REDUCED ISOLATION: bubblewrap is not available, so sandboxed commands run as plain child processes: they share the network, see the whole filesystem the sandbox user can see, and write-mode changes are only redirected by cwd, not enforced';

/** Creates the process sandbox for one workspace; checks bubblewrap once and warns loudly when it is missing. */
export function createProcessSandbox(options: ProcessSandboxOptions): ProcessSandbox {
  const policy = 'evaluate' in options.policy ? options.policy : createExecPolicy(options.policy);
  const logger = options.logger ?? getSandboxLogger('process-sandbox');
  const isolationReport = detectIsolation({ docker: false });
  const requested = options.isolation ?? 'auto';
  if (requested === 'bubblewrap' && !isolationReport.bubblewrap.available) {
    throw new Error(`process sandbox: bubblewrap isolation was required but is unavailable: ${isolationReport.bubblewrap.reason}`);
  }
  const isolation: 'bubblewrap' | 'none' = requested !== 'none' && isolationReport.bubblewrap.available ? 'bubblewrap' : 'none';
  const warnings: string[] = [];
  if (isolation === 'none') {
    warnings.push(REDUCED_ISOLATION_WARNING);
    logger.warn({ reason: isolationReport.bubblewrap.reason, requested }, REDUCED_ISOLATION_WARNING);
  }
  if (!isolationReport.prlimit.available) {
    warnings.push(`no rlimits: ${isolationReport.prlimit.reason}`);
    logger.warn({ reason: isolationReport.prlimit.reason }, 'process sandbox: prlimit unavailable, CPU/memory/process/file-size limits are not applied');
  }
  const user = isolationReport.unprivilegedUser;
  const dropToUser = process.getuid?.() === 0 && user.uid !== undefined && user.gid !== undefined ? { uid: user.uid, gid: user.gid } : undefined;
  // Under bubblewrap a root caller drops inside the sandbox (setpriv), so bwrap can reach workspaces below
  // directories only root may enter; without setpriv it falls back to spawning bwrap as the unprivileged user.
  const setpriv = isolation === 'bubblewrap' && dropToUser ? findExecutable('setpriv') : undefined;
  const dropInside = setpriv && dropToUser ? { ...dropToUser, setpriv } : undefined;
  const scratchExclude = new Set(options.scratchExclude ?? ['node_modules', '.git']);
  const scratchRoot = options.scratchRoot ?? os.tmpdir();

  function wrap(plan: ExecPlan, scratch: Scratch | undefined): { file: string; args: string[] } {
    const inner = isolationReport.prlimit.path ? buildPrlimitArgs(isolationReport.prlimit.path, plan.limits) : [];
    if (isolation === 'bubblewrap') {
      const env = { ...baseEnvironment({ pathDirs: ['/usr/local/bin', '/usr/bin', '/bin'], home: '/tmp/home', tmpdir: '/tmp' }), ...plan.env };
      const args = buildBubblewrapArgs({
        mount: { workspace: plan.workspace, ...(scratch ? { scratch: scratch.dir, readOnlyOverlays: scratch.overlays } : {}) },
        cwd: plan.cwd,
        env,
        ...(dropInside ? { drop: dropInside } : {}),
        argv: [...inner, plan.file, ...plan.args],
      });
      return { file: isolationReport.bubblewrap.path!, args };
    }
    const mapPath = (value: string): string => (scratch && isWithin(plan.workspace, value) ? path.join(scratch.dir, path.relative(plan.workspace, value)) : value);
    const argv = [...inner, plan.file, ...plan.args.map(mapPath)];
    return { file: argv[0]!, args: argv.slice(1) };
  }

  return {
    policy,
    decisions: policy.decisions,
    isolation: isolationReport,
    dryRun(request) {
      const decision = policy.evaluate(request, { dryRun: true });
      if (!decision.allowed) return decision;
      const spawnLine = wrap(decision, decision.write ? { dir: '<scratch copy of the workspace>', overlays: [] } : undefined);
      return { ...decision, isolation, spawn: spawnLine, warnings };
    },
    async run(request, runOptions = {}) {
      const decision = policy.evaluate(request, { record: false });
      if (!decision.allowed) return decision;
      const subject = describeRequest(request);
      policy.decisions.record({ outcome: 'allowed', sandbox: 'process', subject, dryRun: false });
      const scratch = decision.write ? makeScratch(decision.workspace, scratchRoot, scratchExclude, dropToUser, isolation === 'bubblewrap') : undefined;
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-home-'));
      if (dropToUser) fs.chownSync(home, dropToUser.uid, dropToUser.gid);
      try {
        const command = wrap(decision, scratch);
        const cwd = isolation === 'none' && scratch ? path.join(scratch.dir, path.relative(decision.workspace, decision.cwd)) : decision.cwd;
        const env = isolation === 'bubblewrap' ? {} : { ...baseEnvironment({ pathDirs: ['/usr/local/bin', '/usr/bin', '/bin'], home, tmpdir: home }), ...decision.env };
        const result = await runChild(command, { cwd, env, limits: decision.limits, dropToUser: dropInside ? undefined : dropToUser, bubblewrap: isolation === 'bubblewrap', ...runOptions });
        const outcome: ProcessResult = {
          ...result,
          isolation,
          plan: decision,
          warnings,
          ...(scratch ? { scratchDir: scratch.dir } : {}),
        };
        if (outcome.killedBy) {
          policy.decisions.record({
            outcome: 'killed',
            sandbox: 'process',
            subject,
            limit: outcome.killedBy,
            reason: `${outcome.killedBy} limit reached after ${Math.round(outcome.durationMs)} ms`,
            dryRun: false,
          });
        }
        logger.debug({ subject, exitCode: outcome.exitCode, signal: outcome.signal, killedBy: outcome.killedBy, durationMs: outcome.durationMs }, 'process finished');
        return { allowed: true, ...outcome };
      } finally {
        fs.rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

interface Scratch {
  readonly dir: string;
  readonly overlays: readonly string[];
}

/** Copies the workspace for a write run; excluded directories become read-only binds (or symlinks without bwrap). */
function makeScratch(
  workspace: string,
  root: string,
  exclude: ReadonlySet<string>,
  owner: { uid: number; gid: number } | undefined,
  bindOverlays: boolean,
): Scratch {
  const dir = fs.mkdtempSync(path.join(root, 'agentmesh-scratch-'));
  const overlays: string[] = [];
  fs.cpSync(workspace, dir, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => {
      if (source !== workspace && exclude.has(path.basename(source)) && fs.lstatSync(source).isDirectory()) {
        overlays.push(source);
        return false;
      }
      return true;
    },
  });
  for (const overlay of overlays) {
    const target = path.join(dir, path.relative(workspace, overlay));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    // bwrap binds the original over an empty mount point; a plain child follows a symlink to it instead.
    if (bindOverlays) fs.mkdirSync(target);
    else fs.symlinkSync(overlay, target);
  }
  if (owner) chownTree(dir, owner.uid, owner.gid);
  return { dir, overlays };
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.lchownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, uid, gid);
    else fs.lchownSync(full, uid, gid);
  }
}

interface ChildOptions extends ProcessRunOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly limits: ExecLimits;
  readonly dropToUser: { uid: number; gid: number } | undefined;
  readonly bubblewrap: boolean;
}

type ChildResult = Omit<ProcessResult, 'isolation' | 'plan' | 'warnings' | 'scratchDir'>;

const SIGNAL_NUMBERS: Readonly<Record<number, NodeJS.Signals>> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ' };
const FILE_TOO_LARGE = /EFBIG|File too large/;
const OUT_OF_MEMORY = /out of memory|Allocation failed|Cannot allocate memory|ENOMEM|std::bad_alloc/i;

/** Spawns the wrapped command in its own process group and enforces the wall timeout and output caps. */
function runChild(command: { file: string; args: readonly string[] }, options: ChildOptions): Promise<ChildResult> {
  const started = performance.now();
  const stdout = createCappedOutput('stdout', options.limits.maxOutputBytes);
  const stderr = createCappedOutput('stderr', options.limits.maxOutputBytes);
  return new Promise((resolve) => {
    const child = spawn(command.file, [...command.args], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      shell: false,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(options.dropToUser ?? {}),
    });
    let timedOut = false;
    let aborted = false;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.limits.wallTimeoutMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (options.stdin !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.stdin);
    }
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // Stragglers that left the group's leader behind (a fork bomb's children) are killed too.
      killGroup();
      if (spawnError) stderr.push(`\n[agentmesh-sandbox: spawn failed: ${spawnError.message}]\n`);
      let exitSignal = signal;
      let exitCode = code;
      // bwrap reports a signalled child as exit status 128 + signal number.
      if (options.bubblewrap && code !== null && code > 128 && SIGNAL_NUMBERS[code - 128]) {
        exitSignal = SIGNAL_NUMBERS[code - 128]!;
        exitCode = null;
      }
      const stderrText = stderr.text();
      let killedBy: LimitKind | undefined;
      if (timedOut) killedBy = 'timeout';
      else if (exitSignal === 'SIGXCPU') killedBy = 'cpu';
      // node ignores SIGXFSZ, so an over-limit write surfaces as EFBIG instead of the signal.
      else if (exitSignal === 'SIGXFSZ' || ((exitCode !== 0 || exitSignal) && FILE_TOO_LARGE.test(stderrText))) killedBy = 'file-size';
      else if ((exitCode !== 0 || exitSignal) && OUT_OF_MEMORY.test(stderrText)) killedBy = 'memory';
      resolve({
        ok: exitCode === 0 && !killedBy && !aborted,
        exitCode,
        signal: exitSignal,
        ...(killedBy ? { killedBy } : {}),
        aborted,
        stdout: stdout.text(),
        stderr: stderrText,
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        durationMs: performance.now() - started,
      });
    });
  });
}
