/**
 * The coder as a service: one Implement call is one attempt at one task, streamed as
 * patch start / hunk deltas / end and a finish with usage and the candidates considered.
 * It reads the workspace and never writes it: patches go back to the caller.
 */
import type { Logger } from 'pino';
import { Code, ImplementEvent, MeshError, type CoderServiceDefinition } from '@agentmesh/protocol';
import { createLogger, type DeepPartial, type ServiceImplementation } from '@agentmesh/runtime';
import { implementTask } from './engine/implement-task';
import type { ModelProvider } from './engine/model-provider';
import type { FixRanker } from './engine/rank-code-fix';

/** Options of createCoderService. */
export interface CoderServiceOptions {
  /** For free-text tasks; the code-fix engine needs none. */
  modelProvider?: ModelProvider;
  /** Replaces the default ranking of TypeScript's fixes (tests use it to make a first choice wrong). */
  rank?: FixRanker;
  /** Upper bound on fixes applied in one task. */
  maxFixes?: number;
  logger?: Logger;
}

/**
 * Creates the coder's handlers over the code-fix engine. Feedback and rejected candidate
 * ids from the validator go straight to the engine, so a rejected fix is never offered again.
 */
export function createCoderService(options: CoderServiceOptions = {}): ServiceImplementation<typeof CoderServiceDefinition> {
  const logger = options.logger ?? createLogger('coder');
  return {
    async *implement(request, ctx): AsyncGenerator<ImplementEvent> {
      const event = (value: DeepPartial<ImplementEvent>['event']) => ImplementEvent.fromPartial({ event: value });
      if (!request.workspace) throw new MeshError(Code.INVALID_ARGUMENT, 'an implement request needs a workspace');
      if (!request.task) throw new MeshError(Code.INVALID_ARGUMENT, 'an implement request needs a task');
      const parts = implementTask({
        workspace: request.workspace,
        task: request.task,
        basePatches: request.basePatches,
        feedback: request.feedback,
        attempt: request.attempt || 1,
        rejectedCandidates: request.rejectedCandidates,
        provider: options.modelProvider,
        rank: options.rank,
        maxFixes: options.maxFixes,
        signal: ctx.signal,
        logger: ctx.log ?? logger,
      });
      for await (const part of parts) {
        switch (part.type) {
          case 'patch-start':
            yield event({ $case: 'patchStart', patchStart: { id: part.id, file: part.file, description: part.description } });
            break;
          case 'patch-delta':
            yield event({ $case: 'patchDelta', patchDelta: { id: part.id, hunk: part.hunk } });
            break;
          case 'patch-end':
            yield event({ $case: 'patchEnd', patchEnd: { id: part.id, patch: part.patch } });
            break;
          case 'text-delta':
            yield event({ $case: 'textDelta', textDelta: { id: part.id, delta: part.delta } });
            break;
          case 'error':
            yield event({ $case: 'error', error: part.error });
            break;
          case 'finish':
            yield event({ $case: 'finish', finish: { usage: part.usage, considered: part.considered } });
            break;
          case 'diagnostics':
          case 'candidate':
            // Reported through finish.considered; the wire has no per-candidate event yet.
            break;
        }
      }
    },
  };
}
