/**
 * The validator as a service: read-only probes for the planner, and Validate, which
 * applies patches to a temp copy of the workspace and runs the checks (tsc --noEmit, the
 * repository's own tests, allowlisted hooks) through the process sandbox, with write
 * granted only to that scratch copy. The workspace itself is never written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { Code, MeshError, ValidateEvent, type CheckEnd, type ProbeResponse, type ValidatorServiceDefinition } from '@agentmesh/protocol';
import { createLogger, type DeepPartial, type ServiceImplementation } from '@agentmesh/runtime';
import { createDecisionRecorder, createProcessSandbox, type DecisionRecorder, type ExecLimits, type ProcessRunOutcome } from '@agentmesh/sandbox';
import { createPatchedWorkspace, PatchApplyError, type PatchedWorkspace } from './engine/create-patched-workspace';
import { parseTestOutput } from './engine/parse-test-output';
import { parseTscOutput } from './engine/parse-tsc-output';
import { runProbe } from './engine/run-probe';

/** A configured validation hook: an allowlisted command run in the patched copy. */
export interface ValidationHook {
  command: string;
  args?: string[];
}

/** Options of createValidatorService. */
export interface ValidatorServiceOptions {
  /** `auto` (default): bubblewrap when it works here, else plain processes with a warning. */
  isolation?: 'auto' | 'bubblewrap' | 'none';
  /** The TypeScript package the checks compile with when the workspace has none; default the validator's own. */
  typescriptDir?: string;
  /** Checks run when a request names none; default typecheck and tests. */
  defaultChecks?: string[];
  /** Hooks by name, run for "hook:<name>"; their commands join the sandbox's allowlist. */
  hooks?: Record<string, ValidationHook>;
  /** Limits for each check's process (lower than the sandbox's ceiling). */
  limits?: Partial<ExecLimits>;
  /** Where patched copies go; the OS temp dir by default. */
  tempRoot?: string;
  /** Where every sandbox decision (allowed, refused, killed) is counted; one is made when omitted. */
  decisions?: DecisionRecorder;
  logger?: Logger;
}

const outputCap = 8_000;

function defaultTypescriptDir(): string {
  return path.dirname(require.resolve('typescript/package.json'));
}

/**
 * Hard-links a TypeScript package into the copy's node_modules when it has none, so tsc
 * and the repository's scripts find a compiler inside the sandbox, which sees nothing
 * of the host but the system directories and the copy. Falls back to a copy across devices.
 */
function provideTypescript(dir: string, typescriptDir: string): void {
  const target = path.join(dir, 'node_modules', 'typescript');
  if (fs.existsSync(target)) return;
  const modules = path.join(dir, 'node_modules');
  if (fs.existsSync(modules) && fs.lstatSync(modules).isSymbolicLink()) return;
  const link = (from: string, to: string) => {
    fs.mkdirSync(to, { recursive: true });
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
      const source = path.join(from, entry.name);
      const destination = path.join(to, entry.name);
      if (entry.isDirectory()) link(source, destination);
      else {
        try {
          fs.linkSync(source, destination);
        } catch {
          fs.copyFileSync(source, destination);
        }
      }
    }
  };
  link(fs.realpathSync(typescriptDir), target);
}

/** Makes the copy readable by the sandbox's unprivileged user (mkdtemp makes 0700 directories). */
function openForReading(dir: string): void {
  fs.chmodSync(dir, 0o755);
}

/** The test script as argv, when it is `node <file> ...` (the only form run without a shell). */
function testCommand(dir: string): { command: string; args: string[] } | string {
  const manifest = path.join(dir, 'package.json');
  if (!fs.existsSync(manifest)) return 'the workspace has no package.json, so there is no test script';
  const script = ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {}).test;
  if (!script) return 'package.json has no "test" script';
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'node' || words.some((word) => /[|&;<>()$`'"*?]/.test(word))) {
    return `the test script "${script}" is not a plain "node <file>" command; only those run without a shell`;
  }
  return { command: 'node', args: words.slice(1) };
}

function capped(text: string): string {
  return text.length <= outputCap ? text : `${text.slice(0, outputCap)}\n… (${text.length - outputCap} more characters)`;
}

function outcomeText(outcome: ProcessRunOutcome): string {
  if (!outcome.allowed) return `refused by the exec policy (${outcome.rule}): ${outcome.reason}`;
  return `${outcome.stdout}${outcome.stderr}`;
}

/**
 * Creates the validator's handlers. Probe is read-only; Validate streams check_start and
 * check_end per check as each ends, then a finish whose `passed` is every check's verdict.
 */
export function createValidatorService(options: ValidatorServiceOptions = {}): ServiceImplementation<typeof ValidatorServiceDefinition> {
  const logger = options.logger ?? createLogger('validator');
  const typescriptDir = options.typescriptDir ?? defaultTypescriptDir();
  const hooks = options.hooks ?? {};
  const allow = ['node', ...new Set(Object.values(hooks).map((hook) => hook.command))];
  const decisions = options.decisions ?? createDecisionRecorder();
  let warned = false;

  async function runCheck(name: string, copy: PatchedWorkspace, signal: AbortSignal): Promise<Omit<CheckEnd, 'id'>> {
    const started = performance.now();
    const sandbox = createProcessSandbox({ policy: { workspace: copy.dir, allow, writeGranted: true, limits: options.limits, decisions },
      // node_modules is copied into the scratch too: the sandbox's read-only overlay of it fails under bwrap
      // when the copy's node_modules is our own (hard-linked) directory.
      scratchExclude: ['.git'],
      isolation: options.isolation ?? 'auto', logger });
    const isolation = sandbox.isolation.processIsolation === 'bubblewrap' && options.isolation !== 'none' ? 'bubblewrap' : 'process';
    if (isolation === 'process' && !warned) {
      warned = true;
      logger.warn({ reason: sandbox.isolation.bubblewrap.reason }, 'validator: checks run as plain processes (no bubblewrap); isolation is reduced');
    }
    const done = (fields: Partial<CheckEnd>): Omit<CheckEnd, 'id'> => ({
      name,
      passed: false,
      diagnostics: [],
      failures: [],
      output: '',
      durationMs: Math.round(performance.now() - started),
      isolation,
      ...fields,
    });
    if (name === 'typecheck') {
      const outcome = await sandbox.run({ command: 'node', args: ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.', '--pretty', 'false'] }, { signal });
      const text = outcomeText(outcome);
      const diagnostics = parseTscOutput(text, { root: copy.dir }).filter((diagnostic) => diagnostic.category === 'error');
      const passed = outcome.allowed && outcome.ok && diagnostics.length === 0;
      return done({ passed, diagnostics, output: capped(text) });
    }
    if (name === 'tests') {
      const command = testCommand(copy.dir);
      if (typeof command === 'string') return done({ output: command });
      // The test script builds into dist, so it runs with write, which lands in a scratch copy.
      const outcome = await sandbox.run({ command: command.command, args: command.args, write: true, env: { NO_COLOR: '1' } }, { signal });
      const text = outcomeText(outcome);
      const failures = parseTestOutput(text, { root: copy.dir });
      if (outcome.allowed && outcome.scratchDir) fs.rmSync(outcome.scratchDir, { recursive: true, force: true });
      const passed = outcome.allowed && outcome.ok;
      if (!passed && failures.length === 0) failures.push({ name: 'test script', file: '', message: capped(text).slice(-2000) || 'the test script failed' });
      return done({ passed, failures, output: capped(text) });
    }
    if (name.startsWith('hook:')) {
      const hook = hooks[name.slice('hook:'.length)];
      if (!hook) return done({ output: `no validation hook named "${name.slice(5)}" is configured (${Object.keys(hooks).join(', ') || 'none'})` });
      const outcome = await sandbox.run({ command: hook.command, args: hook.args ?? [], write: true }, { signal });
      if (outcome.allowed && outcome.scratchDir) fs.rmSync(outcome.scratchDir, { recursive: true, force: true });
      return done({ passed: outcome.allowed && outcome.ok, output: capped(outcomeText(outcome)) });
    }
    return done({ output: `unknown check "${name}": expected typecheck, tests or hook:<name>` });
  }

  return {
    async probe(request, ctx): Promise<ProbeResponse> {
      if (!request.workspace) throw new MeshError(Code.INVALID_ARGUMENT, 'probe needs a workspace');
      try {
        return await runProbe(request.workspace, request.kind, { signal: ctx.signal });
      } catch (error) {
        if (error instanceof MeshError) throw error;
        throw new MeshError(Code.INVALID_ARGUMENT, `probe ${request.kind} of ${request.workspace}: ${(error as Error).message}`);
      }
    },

    async *validate(request, ctx): AsyncGenerator<ValidateEvent> {
      const event = (value: DeepPartial<ValidateEvent>['event']) => ValidateEvent.fromPartial({ event: value });
      const started = performance.now();
      if (!request.workspace || !fs.existsSync(request.workspace)) throw new MeshError(Code.INVALID_ARGUMENT, `workspace "${request.workspace}" does not exist`);
      const checks = request.checks.length > 0 ? request.checks : (options.defaultChecks ?? ['typecheck', 'tests']);
      let copy: PatchedWorkspace;
      try {
        copy = createPatchedWorkspace({ workspace: request.workspace, patches: request.patches, tempRoot: options.tempRoot, logger: ctx.log });
      } catch (error) {
        if (!(error instanceof PatchApplyError)) throw error;
        yield event({ $case: 'checkStart', checkStart: { id: 'apply', name: 'apply' } });
        yield event({ $case: 'checkEnd', checkEnd: { id: 'apply', name: 'apply', passed: false, output: error.message, isolation: 'none' } });
        yield event({ $case: 'finish', finish: { passed: false, usage: { toolCalls: 0, durationMs: Math.round(performance.now() - started) } } });
        return;
      }
      let toolCalls = 0;
      try {
        provideTypescript(copy.dir, typescriptDir);
        openForReading(copy.dir);
        let passed = true;
        for (const [index, name] of checks.entries()) {
          ctx.signal.throwIfAborted();
          const id = `${request.taskId || 'check'}-${index + 1}`;
          yield event({ $case: 'checkStart', checkStart: { id, name } });
          toolCalls += 1;
          const result = await runCheck(name, copy, ctx.signal);
          ctx.signal.throwIfAborted();
          passed &&= result.passed;
          yield event({ $case: 'checkEnd', checkEnd: { id, ...result } });
        }
        yield event({ $case: 'finish', finish: { passed, filesTouched: copy.filesTouched, usage: { toolCalls, durationMs: Math.round(performance.now() - started) } } });
      } catch (error) {
        if (ctx.signal.aborted) ctx.log.info({ taskId: request.taskId }, 'validation cancelled');
        else ctx.log.error({ err: error }, 'validation failed');
        throw error;
      } finally {
        copy.dispose();
      }
    },
  };
}
