/**
 * What every non-mesh server transport shares: the server surface (register,
 * listen, close) and the small pieces of handler plumbing that must behave the
 * same on grpc, unary and rest.
 */
import type { Logger } from 'pino';
import { Code, MeshError } from '@agentmesh/protocol';
import { ServiceRegistry } from '../service-registry';
import { toAsyncIterable } from '../call-context';
import type { ServiceDefinition, ServiceImplementation } from '../types';

/** A server that serves a registry's handlers over one transport. */
export interface TransportServer {
  /** The registry this server routes through; share it to serve one set of handlers on several transports. */
  readonly registry: ServiceRegistry;
  /** Registers a service's handlers (into the shared registry). */
  register<S extends ServiceDefinition>(service: S, implementation: ServiceImplementation<S>): this;
  /** Binds "host:port" (port 0 picks a free one) and resolves with the bound port. */
  listen(address: string): Promise<number>;
  /** Stops accepting calls; in-flight calls get `graceMs` to finish, then are cancelled. */
  close(graceMs?: number): Promise<void>;
}

/** Options every server transport accepts. */
export interface TransportServerOptions {
  /** Serve these handlers; a fresh registry when omitted. */
  registry?: ServiceRegistry;
  log?: Logger;
  /** Items an Observable handler may push ahead of a slow writer before the call fails (default 1024). */
  maxBuffered?: number;
}

/** Splits "host:port" (IPv6 in brackets allowed); a clear error names what was wrong. */
export function parseHostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!match) throw new MeshError(Code.INVALID_ARGUMENT, `address "${address}" is not "host:port"`);
  return { host: match[1] || '127.0.0.1', port: Number(match[2]) };
}

/**
 * Settles with the handler's result, or rejects as soon as the call's signal
 * fires (deadline, cancel) even when the handler ignores its signal.
 */
export function raceSignal<T>(work: () => Promise<T> | T, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(work)
      .then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
  });
}

/**
 * Drains a streaming handler's result into one array, for the transports that
 * deliver a stream whole (unary, rest). Stops with the signal's reason when the
 * call is aborted.
 */
export async function collectStream<T>(result: unknown, signal: AbortSignal, maxBuffered: number): Promise<T[]> {
  const iterable = toAsyncIterable<T>(result as never, { maxBuffered });
  const iterator = iterable[Symbol.asyncIterator]();
  const items: T[] = [];
  try {
    for (;;) {
      const next = await raceSignal(() => iterator.next(), signal);
      if (next.done) return items;
      items.push(next.value);
    }
  } finally {
    if (signal.aborted) void iterator.return?.()?.catch(() => undefined);
  }
}

let counter = 0;
/** Call ids unique within this process, for logs. */
export function nextCallId(prefix: string): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${process.pid}-${counter}`;
}
