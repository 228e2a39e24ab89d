/**
 * The EchoService handlers every bench server runs: echo (or a sized reply)
 * and a counted stream, with no think time so the transport is what is measured.
 */
import type { EchoServiceDefinition } from '@agentmesh/protocol';
import type { ServiceImplementation } from '@agentmesh/runtime';

/** Creates the bench's EchoService handlers. */
export function benchEchoImplementation(): ServiceImplementation<typeof EchoServiceDefinition> {
  return {
    echo: async (request) => ({
      payload: request.responseBytes ? Buffer.alloc(request.responseBytes, 1) : request.payload,
      receivedMetadata: {},
    }),
    count: async function* (request) {
      const payload = Buffer.alloc(request.payloadBytes, 2);
      for (let index = 0; index < request.count; index++) yield { index, payload };
    },
  };
}
