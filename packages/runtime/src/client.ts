/**
 * Typed clients over any transport: one surface (Promise for unary, ResponseStream
 * for streaming) whether the call goes over the mesh, native gRPC or REST.
 */
import { ResponseStream } from './response-stream';
import type { CallOptions, CallTransport, ServiceClient, ServiceDefinition } from './types';
import { withClientInterceptors, type ClientInterceptor } from './observability/interceptors';
import { defaultClientInterceptors } from './observability/tracing';

/** Options of createServiceClient. */
export interface ServiceClientOptions {
  /** Wrap every call (metrics, logging); outermost first, inside tracing when tracing is on. */
  interceptors?: ClientInterceptor[];
}

/**
 * Builds a typed client for a service on top of a transport. Calls go through
 * the client interceptors given, and through tracing when it is switched on.
 */
export function createServiceClient<S extends ServiceDefinition>(service: S, base: CallTransport, options: ServiceClientOptions = {}): ServiceClient<S> {
  const interceptors = [...defaultClientInterceptors(), ...(options.interceptors ?? [])];
  const transport = withClientInterceptors(base, ...interceptors);
  const client: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(service.methods)) {
    if (method.requestStream) continue; // client-streaming methods are not part of agentmesh contracts
    client[key] = method.responseStream
      ? (request: unknown, options: CallOptions = {}) =>
          new ResponseStream((sink) => transport.stream(service, method, method.requestType.fromPartial(request ?? {}), options, sink))
      : (request: unknown, options: CallOptions = {}) =>
          transport.unary(service, method, method.requestType.fromPartial(request ?? {}), options);
  }
  return client as ServiceClient<S>;
}

/** The effective deadline of a call as epoch milliseconds: the earlier of timeoutMs and deadline. */
export function resolveDeadline(options: CallOptions, now: number = Date.now()): number | undefined {
  const candidates: number[] = [];
  if (options.timeoutMs !== undefined) candidates.push(now + options.timeoutMs);
  if (options.deadline !== undefined) candidates.push(options.deadline instanceof Date ? options.deadline.getTime() : options.deadline);
  return candidates.length ? Math.min(...candidates) : undefined;
}

/** Lower-cases metadata keys, as HTTP/2 and gRPC do, so every transport sees the same keys. */
export function normalizeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (metadata) for (const [k, v] of Object.entries(metadata)) out[k.toLowerCase()] = String(v);
  return out;
}
