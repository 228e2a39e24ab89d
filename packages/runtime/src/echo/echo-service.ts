/**
 * The echo service's handlers: the reference implementation every transport is
 * tested and benchmarked with, and what the smoke job serves.
 */
import { Code, MeshError, type EchoServiceDefinition } from '@agentmesh/protocol';
import type { CallContext, ServiceImplementation } from '../types';

/** Options of createEchoService. */
export interface EchoServiceOptions {
  /** Called when a handler's signal fires, so tests can see cancellation arrive. */
  onAbort?(method: string, reason: unknown): void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function watch(ctx: CallContext, options: EchoServiceOptions): void {
  if (!options.onAbort) return;
  ctx.signal.addEventListener('abort', () => options.onAbort!(ctx.method, ctx.signal.reason), { once: true });
}

/** Creates the echo service's handlers. */
export function createEchoService(options: EchoServiceOptions = {}): ServiceImplementation<typeof EchoServiceDefinition> {
  return {
    async echo(request, ctx) {
      watch(ctx, options);
      if (ctx.metadata['x-echo-header']) ctx.responseHeaders['x-echo-header'] = ctx.metadata['x-echo-header'];
      if (ctx.metadata['x-echo-trailer']) ctx.trailers['x-echo-trailer'] = ctx.metadata['x-echo-trailer'];
      if (request.delayMs > 0) await sleep(request.delayMs, ctx.signal);
      if (request.failCode === 999) throw new Error('simulated handler bug with a secret inside');
      if (request.failCode > 0) {
        throw new MeshError(request.failCode as Code, request.failMessage || 'requested failure', {
          details: [{ type: 'agentmesh.v1.EchoRequest', value: Buffer.from('detail') }],
        });
      }
      const payload = request.responseBytes > 0 ? Buffer.alloc(request.responseBytes, 7) : request.payload;
      return { payload, receivedMetadata: { ...ctx.metadata } };
    },
    async *count(request, ctx) {
      watch(ctx, options);
      const payload = Buffer.alloc(request.payloadBytes, 1);
      for (let index = 0; index < request.count; index++) {
        if (request.failAfter > 0 && index === request.failAfter) {
          throw new MeshError(Code.ABORTED, `failed after ${index} responses as asked`);
        }
        if (request.intervalMs > 0) await sleep(request.intervalMs, ctx.signal);
        yield { index, payload };
      }
    },
  };
}
