/**
 * The planner's whole job as one event stream: the read-only probes (each start and end),
 * then each task as it is found, then the plan. The probes themselves are injected, so the
 * planner can use the validator's over the mesh or run its own.
 */
import pino, { type Logger } from 'pino';
import { codeName, MeshError, type EventError, type Plan, type ProbeResponse, type Task, type Usage } from '@agentmesh/protocol';
import type { PlannerModelProvider } from './model-provider';
import { planFromFreeText } from './plan-from-free-text';
import { planFromGoal } from './plan-from-goal';
import { planFromTasksMarkdown } from './parse-tasks-markdown';

/** What to plan from: exactly one source. */
export type PlanSource = { goal: string } | { tasksMarkdown: string } | { freeText: string };

/** Options of planWorkspace. */
export interface PlanWorkspaceOptions {
  source: PlanSource;
  /** Runs one read-only probe by kind ("tree", "package", ...). */
  probe: (kind: string) => Promise<ProbeResponse>;
  /** Probe kinds to run first; the default is all of them. */
  probeKinds?: readonly string[];
  /** Skip the probes (to measure what grounding buys); a goal plan then has nothing to go on. */
  skipProbes?: boolean;
  provider?: PlannerModelProvider;
  signal?: AbortSignal;
  logger?: Logger;
}

/** One event of planWorkspace. */
export type PlannerEvent =
  | { type: 'probe-start'; id: string; kind: string }
  | { type: 'probe-end'; id: string; kind: string; ok: boolean; result?: ProbeResponse; error?: EventError }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'task'; task: Task }
  | { type: 'plan'; plan: Plan }
  | { type: 'finish'; usage: Usage };

export const defaultProbeKinds = ['tree', 'package', 'tsconfig', 'test-runner', 'diagnostics', 'git'] as const;

const defaultLogger = pino({ name: 'planner-engine', level: process.env.LOG_LEVEL || 'info' });

/**
 * Probes, then plans, streaming as it goes. A failing probe is reported in its probe-end
 * and planning goes on; a plan that cannot be made is thrown (TasksMarkdownError for a bad
 * tasks.md, FAILED_PRECONDITION for free text without a model).
 */
export async function* planWorkspace(options: PlanWorkspaceOptions): AsyncGenerator<PlannerEvent, void, undefined> {
  const started = Date.now();
  const logger = options.logger ?? defaultLogger;
  const probes: ProbeResponse[] = [];
  let toolCalls = 0;
  if (!options.skipProbes) {
    for (const [index, kind] of (options.probeKinds ?? defaultProbeKinds).entries()) {
      options.signal?.throwIfAborted();
      const id = `probe-${index + 1}`;
      yield { type: 'probe-start', id, kind };
      toolCalls += 1;
      try {
        const result = await options.probe(kind);
        probes.push(result);
        yield { type: 'probe-end', id, kind, ok: true, result };
      } catch (reason) {
        const error = MeshError.from(reason);
        logger.warn({ kind, err: reason }, 'probe failed');
        yield { type: 'probe-end', id, kind, ok: false, error: { code: codeName(error.code), message: error.rawMessage, subject: kind } };
      }
    }
  }
  options.signal?.throwIfAborted();
  const { source } = options;
  let plan: Plan;
  const usage: Usage = { inputTokens: 0, outputTokens: 0, toolCalls, durationMs: 0 };
  if ('goal' in source) {
    plan = planFromGoal(source.goal, probes);
  } else if ('tasksMarkdown' in source) {
    plan = planFromTasksMarkdown(source.tasksMarkdown);
  } else {
    const deltas: string[] = [];
    const result = await planFromFreeText({ text: source.freeText, provider: options.provider, probes, signal: options.signal, onText: (delta) => deltas.push(delta) });
    for (const delta of deltas) yield { type: 'text-delta', id: 'plan-text', delta };
    plan = result.plan;
    usage.inputTokens = result.usage.inputTokens;
    usage.outputTokens = result.usage.outputTokens;
    usage.toolCalls += result.usage.toolCalls;
  }
  for (const task of plan.tasks) yield { type: 'task', task };
  yield { type: 'plan', plan };
  usage.durationMs = Date.now() - started;
  yield { type: 'finish', usage };
}
