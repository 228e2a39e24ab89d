/**
 * The model-provider contract as the planner uses it: the same v1 shape as the coder's
 * (`specificationVersion: 'v1'`, `stream({prompt, signal})` of text-delta / usage / finish /
 * error parts), declared here structurally so the planner does not depend on the coder.
 */

/** One streamed part of a model's answer. */
export type PlannerModelPart =
  | { type: 'text-delta'; delta: string }
  | { type: 'usage'; usage: { inputTokens: number; outputTokens: number } }
  | { type: 'finish'; reason: string }
  | { type: 'error'; error: unknown };

/** Any v1 model provider, the coder's included. */
export interface PlannerModelProvider {
  readonly specificationVersion: 'v1';
  readonly modelId: string;
  stream(options: { prompt: string; signal?: AbortSignal }): AsyncIterable<PlannerModelPart>;
}
