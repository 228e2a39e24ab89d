/**
 * The planner as a service: it grounds itself with the validator's read-only probes over
 * the mesh, then plans, streaming each probe's start and end, each task, the plan and a
 * finish with usage. It never touches the repository itself.
 */
import type { Logger } from 'pino';
import {
  Code,
  MeshError,
  PlanEvent,
  ValidatorServiceDefinition,
  type Plan,
  type PlannerServiceDefinition,
  type PlanRequest,
  type ProbeResponse,
  type Task,
} from '@agentmesh/protocol';
import { createLogger, createMeshClient, type DeepPartial, type ServiceClient, type ServiceImplementation } from '@agentmesh/runtime';
import { buildSchedule, linkDependencies } from './engine/build-schedule';
import type { PlannerModelProvider } from './engine/model-provider';
import { planWorkspace, type PlanSource } from './engine/plan-workspace';
import { planningGoals } from './engine/plan-from-goal';
import { TasksMarkdownError } from './engine/tasks-markdown-error';

/** Options of createPlannerService. */
export interface PlannerServiceOptions {
  /** The validator whose read-only Probe grounds the plan: a typed client, or a mesh address. */
  validator: ServiceClient<typeof ValidatorServiceDefinition> | string;
  /** For free-text requests only. */
  modelProvider?: PlannerModelProvider;
  /** Time limit of each probe call. */
  probeTimeoutMs?: number;
  logger?: Logger;
}

function sourceOf(request: PlanRequest): PlanSource {
  switch (request.source?.$case) {
    case 'goal':
      return { goal: request.source.goal };
    case 'tasksMarkdown':
      return { tasksMarkdown: request.source.tasksMarkdown };
    case 'freeText':
      return { freeText: request.source.freeText };
    default:
      throw new MeshError(Code.INVALID_ARGUMENT, 'a plan request needs a goal, a tasks.md or free text');
  }
}

/**
 * The plan for a goal when probes are switched off: one task over the whole workspace with
 * no files named, because nothing was looked at. It is what grounding is measured against.
 */
export function planBlind(goal: string): Plan {
  if (!(planningGoals as readonly string[]).includes(goal)) {
    throw new MeshError(Code.INVALID_ARGUMENT, `unknown goal '${goal}': expected one of ${planningGoals.join(', ')}`);
  }
  const base = { parallel: false, story: '', files: [], dependsOn: [], diagnostics: [], sourceLine: 0 };
  const tasks: Task[] = [{ ...base, id: 'T001', title: 'Fix every type error in the workspace (planned without probes)', kind: 'fix-diagnostics', phase: 'Typecheck' }];
  if (goal === 'tests') tasks.push({ ...base, id: 'T002', title: 'Make the tests pass (planned without probes)', kind: 'make-tests-pass', phase: 'Tests', dependsOn: ['T001'] });
  const linked = linkDependencies(tasks);
  return { goal, tasks: linked, schedule: buildSchedule(linked) };
}

/** Maps the engine's failures to wire errors a caller can act on. */
function toMeshError(error: unknown): MeshError {
  if (error instanceof MeshError) return error;
  if (error instanceof TasksMarkdownError) return new MeshError(Code.INVALID_ARGUMENT, error.message, { cause: error });
  if (error instanceof Error && /^unknown goal|needs the result of/.test(error.message)) return new MeshError(Code.INVALID_ARGUMENT, error.message, { cause: error });
  return MeshError.from(error);
}

/**
 * Creates the planner's handlers. Probes go to the validator with the call's own signal,
 * so cancelling a plan cancels the probe in flight too.
 */
export function createPlannerService(options: PlannerServiceOptions): ServiceImplementation<typeof PlannerServiceDefinition> {
  const logger = options.logger ?? createLogger('planner');
  const validator =
    typeof options.validator === 'string' ? createMeshClient({ identity: 'planner', logger }).client(ValidatorServiceDefinition, options.validator) : options.validator;
  return {
    async *plan(request, ctx): AsyncGenerator<PlanEvent> {
      const event = (value: DeepPartial<PlanEvent>['event']) => PlanEvent.fromPartial({ event: value });
      if (!request.workspace) throw new MeshError(Code.INVALID_ARGUMENT, 'a plan request needs a workspace');
      const source = sourceOf(request);
      if (request.skipProbes && 'goal' in source) {
        const started = Date.now();
        const plan = planBlind(source.goal);
        for (const task of plan.tasks) yield event({ $case: 'task', task: { task } });
        yield event({ $case: 'plan', plan });
        yield event({ $case: 'finish', finish: { usage: { toolCalls: 0, durationMs: Date.now() - started } } });
        return;
      }
      const probe = (kind: string): Promise<ProbeResponse> =>
        validator.probe({ workspace: request.workspace, kind }, { signal: ctx.signal, timeoutMs: options.probeTimeoutMs ?? 60_000, metadata: ctx.metadata.traceparent ? { traceparent: ctx.metadata.traceparent } : undefined });
      try {
        for await (const part of planWorkspace({ source, probe, skipProbes: request.skipProbes, provider: options.modelProvider, signal: ctx.signal, logger: ctx.log })) {
          switch (part.type) {
            case 'probe-start':
              yield event({ $case: 'probeStart', probeStart: { id: part.id, kind: part.kind } });
              break;
            case 'probe-end':
              yield event({
                $case: 'probeEnd',
                probeEnd: {
                  id: part.id,
                  kind: part.kind,
                  ok: part.ok,
                  summary: part.result?.summary ?? `failed: ${part.error?.message ?? 'unknown error'}`,
                  json: part.result?.json ?? '',
                  durationMs: part.result?.durationMs ?? 0,
                },
              });
              break;
            case 'task':
              yield event({ $case: 'task', task: { task: part.task } });
              break;
            case 'plan':
              yield event({ $case: 'plan', plan: part.plan });
              break;
            case 'finish':
              yield event({ $case: 'finish', finish: { usage: part.usage } });
              break;
            case 'text-delta':
              break;
          }
        }
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        throw toMeshError(error);
      }
    },
  };
}
