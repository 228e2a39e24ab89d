/** A model provider that replays scripted answers and records every call, for tests. */
import type { ModelProvider, ModelStreamOptions, ModelStreamPart } from './model-provider';

/** Options of createScriptedModelProvider. */
export interface ScriptedModelProviderOptions {
  /** One script per call, in order: a string (streamed in chunks) or exact parts. */
  responses: ReadonlyArray<string | readonly ModelStreamPart[]>;
  modelId?: string;
  /** Characters per text-delta when a response is a string. */
  chunkSize?: number;
}

/** The scripted provider plus what it was asked. */
export interface ScriptedModelProvider extends ModelProvider {
  readonly calls: ModelStreamOptions[];
}

function partsOf(response: string | readonly ModelStreamPart[], chunkSize: number, prompt: string): readonly ModelStreamPart[] {
  if (typeof response !== 'string') return response;
  const parts: ModelStreamPart[] = [];
  for (let index = 0; index < response.length; index += chunkSize) {
    parts.push({ type: 'text-delta', delta: response.slice(index, index + chunkSize) });
  }
  parts.push({ type: 'usage', usage: { inputTokens: Math.ceil(prompt.length / 4), outputTokens: Math.ceil(response.length / 4) } });
  parts.push({ type: 'finish', reason: 'stop' });
  return parts;
}

/** Creates a provider that answers call N with `responses[N]`; a call past the script is an error. */
export function createScriptedModelProvider(options: ScriptedModelProviderOptions): ScriptedModelProvider {
  const calls: ModelStreamOptions[] = [];
  const chunkSize = options.chunkSize ?? 16;
  return {
    specificationVersion: 'v1',
    modelId: options.modelId ?? 'scripted',
    calls,
    async *stream(request) {
      const index = calls.length;
      calls.push(request);
      const response = options.responses[index];
      if (response === undefined) {
        yield { type: 'error', error: new Error(`scripted model provider has no response for call ${index + 1}`) };
        return;
      }
      for (const part of partsOf(response, chunkSize, request.prompt)) {
        request.signal?.throwIfAborted();
        yield part;
      }
    },
  };
}
