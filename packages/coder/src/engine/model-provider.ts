/**
 * The model-provider contract: small and versioned, so a model can be plugged in for
 * free-text tasks without the coder knowing whose model it is.
 */
import type { Usage } from '@agentmesh/protocol';

/** One streamed part of a model's answer. */
export type ModelStreamPart =
  | { type: 'text-delta'; delta: string }
  | { type: 'usage'; usage: Pick<Usage, 'inputTokens' | 'outputTokens'> }
  | { type: 'finish'; reason: 'stop' | 'length' | 'error' | 'other' }
  | { type: 'error'; error: unknown };

/** A request to a model: the prompt and the call's cancel signal. */
export interface ModelStreamOptions {
  prompt: string;
  /** Aborts the model call; providers must stop streaming when it fires. */
  signal?: AbortSignal;
  /** Upper bound on the answer's tokens, when the provider supports it. */
  maxOutputTokens?: number;
}

/** A model provider, version 1 of the contract. */
export interface ModelProvider {
  readonly specificationVersion: 'v1';
  /** Provider and model, such as "openai-compatible:qwen2.5-coder", for reports. */
  readonly modelId: string;
  stream(options: ModelStreamOptions): AsyncIterable<ModelStreamPart>;
}
