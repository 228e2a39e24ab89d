/**
 * The conductor: the workflow as an explicit state machine, probe → plan →
 * (implement → validate)* per task, then a verification of the whole patch set with
 * bounded repair rounds in which the validator's findings and the rejected candidate ids
 * go back to the coder. Tasks run in parallel where the plan's schedule allows; one
 * AbortController cancels every agent's call; a lost agent fails the run by name.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { Observable, ReplaySubject } from 'rxjs';
import {
  Code,
  CoderServiceDefinition,
  MeshError,
  PlannerServiceDefinition,
  ValidatorServiceDefinition,
  type Diagnostic,
  type Feedback,
  type Patch,
  type Plan,
  type Task,
  type TestFailure,
} from '@agentmesh/protocol';
import { createLogger, createMeshClient, createServiceClient, inSpan, startSpan, type SpanHandle, type CallTransport, type MeshClient, type MeshClientOptions, type ServiceClient } from '@agentmesh/runtime';
import { applyPatchSet, formatPatchFile } from './apply-unified-diff';
import type { AgentName, CheckSummary, CompareReport, ConductorEvent, HopLatency, PhaseName, RunMetrics, RunReport, RunState, TaskReport, TaskState } from './conductor-event';

/** Peer addresses ("host:port") of the three agents. */
export interface AgentAddresses {
  planner: string;
  coder: string;
  validator: string;
}

/** Options of createConductor. */
export interface ConductorOptions {
  agents: AgentAddresses;
  /** How calls travel: "mesh" (default) or a name `transportFactory` knows (grpc, unary, rest, rest-nokeepalive). */
  transport?: string;
  /** Makes a non-mesh client transport; pass the runtime's createTransport. */
  transportFactory?: (name: string, address: string) => CallTransport;
  /** Attempts per task, the first included (default 3). */
  maxAttempts?: number;
  /** Repair rounds after a failed verification (default 2). */
  maxRepairRounds?: number;
  /** Tasks of one schedule group run at once up to this many (default 4). */
  concurrency?: number;
  /** Time limit of each agent call (default 5 minutes). */
  callTimeoutMs?: number;
  identity?: string;
  logger?: Logger;
  /** Options of the conductor's mesh client, e.g. channelOptions with a round_robin service config for dns:/// names. */
  meshOptions?: Pick<MeshClientOptions, 'channelOptions' | 'onSessionEvent'>;
}

/** What one run does. */
export interface RunRequest {
  workspace: string;
  /** "typecheck" or "tests"; ignored when tasksMarkdown is given. */
  goal?: string;
  tasksMarkdown?: string;
  /** Write the patches to the workspace, only when every check passed. */
  apply?: boolean;
  /** Run the planner's read-only probes first (default true). */
  probes?: boolean;
  /** Validate each task and repair after a failed verification (default true). */
  validators?: boolean;
  /** Where an unapplied patch set is written; a temp file by default. */
  patchFile?: string;
  signal?: AbortSignal;
}

/** A started run: its events as they happen, and its report. */
export interface ConductorRun {
  readonly events$: Observable<ConductorEvent>;
  readonly result: Promise<RunReport>;
  /** Cancels the run; every agent's handler signal fires. */
  cancel(reason?: string): void;
}

/** A conductor bound to three agents. */
export interface Conductor {
  run(request: RunRequest): ConductorRun;
  /** Runs twice, grounded (probes and validators on) and with the switches given (default both off), for the before/after. */
  compare(request: RunRequest): Promise<CompareReport>;
  close(): Promise<void>;
}

/** Why a run failed: the agent it lost (if it was one) and the report so far. */
export class RunFailedError extends Error {
  /** The report up to the failure; set on the error `result` rejects with. */
  report?: RunReport;
  constructor(
    message: string,
    readonly agent?: AgentName,
    options?: { cause?: unknown; report?: RunReport },
  ) {
    super(message, options);
    this.name = 'RunFailedError';
    this.report = options?.report;
  }
}

/** The run's legal transitions: anything else is a bug and throws. */
const transitions: Record<RunState, RunState[]> = {
  starting: ['planning', 'failed', 'cancelled'],
  planning: ['implementing', 'failed', 'cancelled'],
  implementing: ['verifying', 'failed', 'cancelled'],
  verifying: ['repairing', 'finishing', 'failed', 'cancelled'],
  repairing: ['verifying', 'failed', 'cancelled'],
  finishing: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

const taskTransitions: Record<TaskState, TaskState[]> = {
  pending: ['implementing', 'failed'],
  implementing: ['validating', 'done', 'failed'],
  validating: ['done', 'retrying', 'failed'],
  retrying: ['implementing', 'failed'],
  done: ['retrying'],
  failed: ['retrying'],
};

function emptyMetrics(): RunMetrics {
  return {
    phasesMs: {},
    totalMs: 0,
    toolCalls: { planner: {}, coder: {}, validator: {} },
    calls: { planner: 0, coder: 0, validator: 0 },
    retries: 0,
    tokens: { input: 0, output: 0 },
    planAdherence: { tasksPlanned: 0, tasksDone: 0, ratio: 1, filesOutsidePlan: [] },
    hopLatency: {},
  };
}

function quotedNames(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.flatMap((diagnostic) => [...diagnostic.message.matchAll(/'([A-Za-z_$][\w$]*)'/g)].map((match) => match[1]));
}

function addedLiterals(patches: readonly Patch[]): string[] {
  const added = patches.flatMap((patch) => patch.unifiedDiff.split('\n').filter((line) => line.startsWith('+') && !line.startsWith('+++')));
  return added.flatMap((line) => [...line.matchAll(/(["'`])([^"'`]{6,})\1/g)].map((match) => match[2]));
}

/**
 * Which tasks a failing test points at: a task whose patch added a string the failure
 * repeats (a stub's "not implemented" message), or whose diagnostics named what the
 * failure says is undefined. Blame on evidence only; nothing found means no repair.
 */
function suspects(failures: readonly TestFailure[], tasks: readonly TaskRun[]): TaskRun[] {
  const texts = failures.map((failure) => `${failure.name}\n${failure.message}`);
  return tasks.filter((run) => {
    if (run.patches.length === 0) return false;
    const literals = addedLiterals(run.patches);
    if (literals.some((literal) => texts.some((text) => text.includes(literal)))) return true;
    const names = quotedNames(run.task.diagnostics);
    return names.some((name) => texts.some((text) => new RegExp(`\\b${name.replace(/\$/g, '\\$')} is not (defined|a function)`).test(text)));
  });
}

interface TaskRun {
  task: Task;
  state: TaskState;
  attempts: number;
  patches: Patch[];
  rejected: string[];
  considered: string[];
  checks: CheckSummary[];
  feedback?: Feedback;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * Creates a conductor for three agents at known addresses. Runs share one client pool
 * (one mesh session per agent), and each run has its own cancel path.
 */
export function createConductor(options: ConductorOptions): Conductor {
  const logger = options.logger ?? createLogger('conductor');
  const transportName = options.transport ?? 'mesh';
  let mesh: MeshClient | undefined;
  const transports: CallTransport[] = [];
  const transportTo = (address: string): CallTransport => {
    if (transportName === 'mesh') {
      mesh ??= createMeshClient({ ...options.meshOptions, identity: options.identity ?? 'conductor', logger });
      return mesh.transport(address);
    }
    if (!options.transportFactory) throw new MeshError(Code.INVALID_ARGUMENT, `transport "${transportName}" needs a transportFactory (the runtime's createTransport)`);
    const transport = options.transportFactory(transportName, address);
    transports.push(transport);
    return transport;
  };
  let clients:
    | { planner: ServiceClient<typeof PlannerServiceDefinition>; coder: ServiceClient<typeof CoderServiceDefinition>; validator: ServiceClient<typeof ValidatorServiceDefinition> }
    | undefined;
  const getClients = () =>
    (clients ??= {
      planner: createServiceClient(PlannerServiceDefinition, transportTo(options.agents.planner)),
      coder: createServiceClient(CoderServiceDefinition, transportTo(options.agents.coder)),
      validator: createServiceClient(ValidatorServiceDefinition, transportTo(options.agents.validator)),
    });

  function run(request: RunRequest): ConductorRun {
    const events = new ReplaySubject<ConductorEvent>();
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(request.signal?.reason ?? new MeshError(Code.CANCELLED, 'the run was cancelled'));
    if (request.signal?.aborted) onOuterAbort();
    request.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const signal = controller.signal;
    const probes = request.probes ?? true;
    const validators = request.validators ?? true;
    const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    const maxRepairRounds = options.maxRepairRounds ?? 2;
    const timeoutMs = options.callTimeoutMs ?? 300_000;
    const started = performance.now();
    const metrics = emptyMetrics();
    const latencies: Record<AgentName, number[]> = { planner: [], coder: [], validator: [] };
    const goal = request.tasksMarkdown !== undefined ? 'tasks.md' : (request.goal ?? 'tests');
    const log = logger.child({ workspace: request.workspace, goal });
    const emit = (event: ConductorEvent) => events.next(event);
    let state: RunState = 'starting';
    const moveTo = (to: RunState) => {
      if (!transitions[state].includes(to)) throw new Error(`conductor bug: no transition from ${state} to ${to}`);
      emit({ type: 'state', from: state, to });
      state = to;
    };
    const moveTask = (run: TaskRun, to: TaskState) => {
      if (!taskTransitions[run.state].includes(to)) throw new Error(`conductor bug: task ${run.task.id} cannot go from ${run.state} to ${to}`);
      emit({ type: 'task-state', taskId: run.task.id, from: run.state, to, attempt: run.attempts });
      run.state = to;
    };
    const count = (agent: AgentName, kind: string, by = 1) => {
      metrics.toolCalls[agent][kind] = (metrics.toolCalls[agent][kind] ?? 0) + by;
    };
    const addPhase = (phase: PhaseName, ms: number) => {
      metrics.phasesMs[phase] = Math.round((metrics.phasesMs[phase] ?? 0) + ms);
    };
    // GenAI semantic conventions: each phase is an invoke_agent span of the agent that does it.
    const phaseAgent: Record<PhaseName, string> = { probe: 'planner', plan: 'planner', implement: 'coder', validate: 'validator', verify: 'validator', repair: 'coder', finish: 'conductor' };
    const timed = async <T>(phase: PhaseName, work: () => Promise<T>): Promise<T> => {
      emit({ type: 'phase-start', phase });
      const at = performance.now();
      try {
        return await inSpan(`invoke_agent ${phaseAgent[phase]}`, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': phaseAgent[phase], 'agentmesh.phase': phase }, work);
      } finally {
        const durationMs = Math.round(performance.now() - at);
        addPhase(phase, durationMs);
        emit({ type: 'phase-end', phase, durationMs });
      }
    };

    /** Places a streaming call on an agent; errors that are not our own cancel name the agent. */
    async function* call<T>(agent: AgentName, what: string, open: (callOptions: { signal: AbortSignal; timeoutMs: number }) => AsyncIterable<T>): AsyncGenerator<T> {
      metrics.calls[agent] += 1;
      const at = performance.now();
      let first = true;
      try {
        for await (const item of open({ signal, timeoutMs })) {
          if (first) {
            latencies[agent].push(performance.now() - at);
            first = false;
          }
          yield item;
        }
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        const wire = MeshError.from(error);
        throw new RunFailedError(`${agent} at ${options.agents[agent]} failed during ${what}: ${wire.message}`, agent, { cause: error });
      }
    }

    async function validate(taskId: string, patches: Patch[], checks: string[]): Promise<{ passed: boolean; checks: CheckSummary[] }> {
      const summaries: CheckSummary[] = [];
      let passed = false;
      for await (const event of call('validator', `validate ${taskId}`, (callOptions) =>
        getClients().validator.validate({ workspace: request.workspace, patches, checks, taskId }, callOptions),
      )) {
        const part = event.event;
        if (part?.$case === 'checkStart') {
          toolSpans.set(`${taskId}/${part.checkStart.name}`, toolSpan(part.checkStart.name));
          count('validator', part.checkStart.name);
          emit({ type: 'check-start', taskId, name: part.checkStart.name });
        } else if (part?.$case === 'checkEnd') {
          const end = part.checkEnd;
          endToolSpan(`${taskId}/${end.name}`, end.passed);
          const summary: CheckSummary = { name: end.name, passed: end.passed, diagnostics: end.diagnostics, failures: end.failures, durationMs: end.durationMs, isolation: end.isolation };
          summaries.push(summary);
          emit({ type: 'check-end', taskId, check: summary });
        } else if (part?.$case === 'finish') {
          passed = part.finish.passed;
        }
      }
      return { passed, checks: summaries };
    }

    async function implement(run: TaskRun, basePatches: Patch[]): Promise<Patch[]> {
      const patches: Patch[] = [];
      run.attempts += 1;
      const request_ = {
        workspace: request.workspace,
        task: run.task,
        basePatches,
        attempt: run.attempts,
        rejectedCandidates: run.rejected,
        feedback: run.feedback,
      };
      for await (const event of call('coder', `implement ${run.task.id} (attempt ${run.attempts})`, (callOptions) => getClients().coder.implement(request_, callOptions))) {
        const part = event.event;
        if (part?.$case === 'patchEnd' && part.patchEnd.patch) {
          patches.push(part.patchEnd.patch);
          emit({ type: 'patch', taskId: run.task.id, patch: part.patchEnd.patch });
        } else if (part?.$case === 'finish') {
          const usage = part.finish.usage;
          if (usage) {
            count('coder', 'code-fix', usage.toolCalls);
            metrics.tokens.input += usage.inputTokens;
            metrics.tokens.output += usage.outputTokens;
          }
          run.considered = part.finish.considered;
        } else if (part?.$case === 'error') {
          log.warn({ taskId: run.task.id, error: part.error }, 'coder reported an in-band error');
        }
      }
      return patches;
    }

    /** A task's own check: the typecheck, judged on the files the task names (all files when it names none). */
    function judge(run: TaskRun, checks: CheckSummary[]): { passed: boolean; feedback: Feedback } {
      const files = new Set([...run.task.files, ...run.task.diagnostics.map((diagnostic) => diagnostic.file)].filter(Boolean));
      const inScope = (diagnostic: Diagnostic) => files.size === 0 || files.has(diagnostic.file);
      const diagnostics = checks.flatMap((check) => check.diagnostics).filter(inScope);
      const broken = checks.filter((check) => check.name !== 'typecheck' && !check.passed);
      const failures = broken.flatMap((check) => check.failures);
      const passed = diagnostics.length === 0 && broken.length === 0;
      const summary = passed ? 'passed' : [diagnostics.length ? `${diagnostics.length} type errors remain in the task's files` : '', broken.map((check) => `${check.name} failed`).join(', ')].filter(Boolean).join('; ');
      return { passed, feedback: { summary, diagnostics, failures } };
    }

    async function runTask(run: TaskRun, basePatches: () => Patch[]): Promise<void> {
      for (;;) {
        moveTask(run, 'implementing');
        run.patches = await timed('implement', () => implement(run, basePatches()));
        if (!validators || run.task.kind === 'make-tests-pass') {
          // The tests are judged once, on the whole patch set, in the verification.
          moveTask(run, 'done');
          return;
        }
        moveTask(run, 'validating');
        const result = await timed('validate', () => validate(run.task.id, [...basePatches(), ...run.patches], ['typecheck']));
        run.checks = result.checks;
        const verdict = judge(run, result.checks);
        emit({ type: 'task-verdict', taskId: run.task.id, attempt: run.attempts, passed: verdict.passed, summary: verdict.passed ? "no type errors left in the task's files" : verdict.feedback.summary });
        if (verdict.passed) {
          moveTask(run, 'done');
          return;
        }
        if (run.attempts >= maxAttempts) {
          moveTask(run, 'failed');
          return;
        }
        moveTask(run, 'retrying');
        run.feedback = verdict.feedback;
        run.rejected = [...new Set([...run.rejected, ...run.patches.map((patch) => patch.candidateId).filter(Boolean)])];
        metrics.retries += 1;
        emit({ type: 'retry', taskId: run.task.id, attempt: run.attempts + 1, reason: verdict.feedback.summary, rejectedCandidates: run.rejected });
      }
    }

    const runs: TaskRun[] = [];
    let plan: Plan | undefined;
    let verification: CheckSummary[] = [];
    let passed = false;
    let applied: string[] = [];
    let patchFile: string | undefined;

    const allPatches = () => runs.flatMap((run) => run.patches);
    const report = (status: RunReport['status'], error?: RunReport['error']): RunReport => {
      const planned = new Set(runs.flatMap((run) => run.task.files));
      const touched = [...new Set(allPatches().map((patch) => patch.file))];
      const done = runs.filter((run) => run.state === 'done').length;
      metrics.planAdherence = {
        tasksPlanned: runs.length,
        tasksDone: done,
        ratio: runs.length === 0 ? 1 : done / runs.length,
        filesOutsidePlan: touched.filter((file) => !planned.has(file)).sort(),
      };
      for (const agent of ['planner', 'coder', 'validator'] as const) {
        const values = latencies[agent];
        if (values.length === 0) continue;
        const hop: HopLatency = { address: options.agents[agent], calls: values.length, p50Ms: Math.round(median(values) * 10) / 10, maxMs: Math.round(Math.max(...values) * 10) / 10 };
        const rtt = transportName === 'mesh' ? mesh?.currentSession(options.agents[agent])?.rttMs : undefined;
        if (rtt !== undefined) hop.rttMs = Math.round(rtt * 1000) / 1000;
        metrics.hopLatency[agent] = hop;
      }
      metrics.totalMs = Math.round(performance.now() - started);
      const tasks: TaskReport[] = runs.map((run) => ({
        id: run.task.id,
        title: run.task.title,
        state: run.state,
        attempts: run.attempts,
        patches: run.patches.length,
        rejectedCandidates: run.rejected,
        considered: run.considered,
        checks: run.checks,
      }));
      return { workspace: request.workspace, goal, status, passed, probes, validators, plan, tasks, patches: allPatches(), applied, patchFile, verification, metrics, ...(error ? { error } : {}) };
    };

    // Tool calls the agents report by start and end events become execute_tool spans.
    const toolSpans = new Map<string, SpanHandle>();
    const toolSpan = (tool: string) => startSpan(`execute_tool ${tool}`, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool });
    const endToolSpan = (key: string, ok: boolean) => {
      toolSpans.get(key)?.end(ok ? undefined : new Error(`${key} failed`));
      toolSpans.delete(key);
    };

    async function conduct(): Promise<RunReport> {
      await Promise.resolve();
      signal.throwIfAborted();
      moveTo('planning');
      const clientsNow = getClients();
      const source = request.tasksMarkdown !== undefined ? { $case: 'tasksMarkdown' as const, tasksMarkdown: request.tasksMarkdown } : { $case: 'goal' as const, goal };
      // probe and plan come from one planner stream: the probe phase lasts until the first task or the plan.
      let phase: PhaseName = probes ? 'probe' : 'plan';
      let phaseStarted = performance.now();
      emit({ type: 'phase-start', phase });
      const switchToPlan = () => {
        if (phase !== 'probe') return;
        const durationMs = performance.now() - phaseStarted;
        addPhase('probe', durationMs);
        emit({ type: 'phase-end', phase: 'probe', durationMs: Math.round(durationMs) });
        phase = 'plan';
        phaseStarted = performance.now();
        emit({ type: 'phase-start', phase: 'plan' });
      };
      try {
        for await (const event of call('planner', 'plan', (callOptions) => clientsNow.planner.plan({ workspace: request.workspace, source, skipProbes: !probes }, callOptions))) {
          const part = event.event;
          switch (part?.$case) {
            case 'probeStart':
              toolSpans.set(`probe/${part.probeStart.kind}`, toolSpan(`probe.${part.probeStart.kind}`));
              count('planner', 'probe');
              count('validator', 'probe');
              emit({ type: 'probe-start', kind: part.probeStart.kind });
              break;
            case 'probeEnd':
              endToolSpan(`probe/${part.probeEnd.kind}`, part.probeEnd.ok);
              emit({ type: 'probe-end', kind: part.probeEnd.kind, ok: part.probeEnd.ok, summary: part.probeEnd.summary, durationMs: part.probeEnd.durationMs });
              break;
            case 'task':
              switchToPlan();
              if (part.task.task) emit({ type: 'task-found', task: part.task.task });
              break;
            case 'plan':
              switchToPlan();
              plan = part.plan;
              emit({ type: 'plan', plan: part.plan });
              break;
            case 'finish':
              if (part.finish.usage) {
                metrics.tokens.input += part.finish.usage.inputTokens;
                metrics.tokens.output += part.finish.usage.outputTokens;
              }
              break;
            default:
              break;
          }
        }
      } finally {
        const durationMs = performance.now() - phaseStarted;
        addPhase(phase, durationMs);
        emit({ type: 'phase-end', phase, durationMs: Math.round(durationMs) });
      }
      if (!plan) throw new RunFailedError('the planner ended its stream without a plan', 'planner');
      for (const task of plan.tasks) runs.push({ task, state: 'pending', attempts: 0, patches: [], rejected: [], considered: [], checks: [] });
      const byId = new Map(runs.map((run) => [run.task.id, run]));

      moveTo('implementing');
      const groups = plan.schedule.length > 0 ? plan.schedule.map((group) => group.taskIds) : plan.tasks.map((task) => [task.id]);
      const concurrency = Math.max(1, options.concurrency ?? 4);
      for (const group of groups) {
        const members = group.map((id) => byId.get(id)).filter((run): run is TaskRun => run !== undefined);
        // Earlier groups' patches are the base of this one; tasks in a group touch different files.
        const earlier = runs.filter((run) => !members.includes(run) && run.state === 'done');
        const base = () => earlier.flatMap((run) => run.patches);
        for (let index = 0; index < members.length; index += concurrency) {
          await Promise.all(members.slice(index, index + concurrency).map((run) => runTask(run, base)));
        }
      }

      for (let round = 0; ; round += 1) {
        moveTo('verifying');
        const result = await timed('verify', () => validate('verify', allPatches(), ['typecheck', 'tests']));
        verification = result.checks;
        passed = result.passed;
        if (passed || !validators || round >= maxRepairRounds) break;
        const failures = result.checks.flatMap((check) => check.failures);
        const blamed = suspects(failures, runs);
        if (blamed.length === 0) break;
        moveTo('repairing');
        await timed('repair', async () => {
          for (const run of blamed) {
            moveTask(run, 'retrying');
            run.rejected = [...new Set([...run.rejected, ...run.patches.map((patch) => patch.candidateId).filter(Boolean)])];
            run.feedback = { summary: `the tests fail after this task's patches: ${failures.map((failure) => `${failure.name}: ${failure.message.split('\n')[0]}`).join('; ')}`, diagnostics: [], failures };
            metrics.retries += 1;
            emit({ type: 'retry', taskId: run.task.id, attempt: run.attempts + 1, reason: run.feedback.summary, rejectedCandidates: run.rejected });
            const others = () => runs.filter((other) => other !== run && runs.indexOf(other) < runs.indexOf(run)).flatMap((other) => other.patches);
            await runTask(run, others);
          }
        });
      }

      moveTo('finishing');
      await timed('finish', async () => {
        const patches = allPatches();
        if (request.apply && passed && patches.length > 0) {
          applied = applyPatchSet(request.workspace, patches);
        } else if (patches.length > 0) {
          patchFile = request.patchFile ?? path.join(os.tmpdir(), `agentmesh-${path.basename(request.workspace)}-${Date.now()}.patch`);
          fs.writeFileSync(patchFile, formatPatchFile(patches));
        }
      });
      moveTo(passed ? 'succeeded' : 'failed');
      return report(passed ? 'passed' : 'failed');
    }

    const result = inSpan('invoke_agent conductor', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'conductor' }, conduct).then(
      (final) => {
        emit({ type: 'metrics', metrics: final.metrics });
        emit({ type: 'run-end', status: final.status, passed: final.passed });
        events.complete();
        return final;
      },
      (error: unknown) => {
        const cancelled = signal.aborted && !(error instanceof RunFailedError);
        if (!cancelled && !signal.aborted) controller.abort(new MeshError(Code.CANCELLED, 'the run failed'));
        const agent = error instanceof RunFailedError ? error.agent : undefined;
        const message = cancelled ? `the run was cancelled: ${MeshError.from(signal.reason).rawMessage}` : (error as Error).message;
        if (state !== 'failed' && state !== 'cancelled' && state !== 'succeeded') moveTo(cancelled ? 'cancelled' : 'failed');
        const final = report(cancelled ? 'cancelled' : 'failed', { ...(agent ? { agent } : {}), message });
        emit({ type: 'metrics', metrics: final.metrics });
        emit({ type: 'run-end', status: final.status, passed: false, error: message });
        events.complete();
        request.signal?.removeEventListener('abort', onOuterAbort);
        throw new RunFailedError(message, agent, { cause: error, report: final });
      },
    );
    result.catch(() => undefined);
    return {
      events$: events.asObservable(),
      result,
      cancel: (reason = 'the run was cancelled') => controller.abort(new MeshError(Code.CANCELLED, reason)),
    };
  }

  return {
    run,
    async compare(request) {
      const grounded = await run({ ...request, apply: false, probes: true, validators: true }).result;
      const ungrounded = await run({ ...request, apply: false, probes: request.probes === true ? true : false, validators: request.validators === true ? true : false }).result;
      return { grounded, ungrounded };
    },
    async close() {
      await mesh?.close();
      await Promise.all(transports.map((transport) => transport.close()));
    },
  };
}
