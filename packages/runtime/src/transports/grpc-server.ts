/**
 * Serves a ServiceRegistry's handlers over native grpc-js, so any standard gRPC
 * client can call an agent. Two modes:
 * - `grpc`: unary methods as unary calls, streamed methods as server-streaming
 *   calls (one HTTP/2 stream per call: the "per-call gRPC" baseline);
 * - `unary`: every method is a unary call; a streamed method's events are
 *   collected and sent whole as one message, a length-prefixed concatenation of
 *   the encoded events (see encodeLengthPrefixed). Same method paths, so one
 *   server serves one mode; the client must use the matching mode.
 */
import * as grpc from '@grpc/grpc-js';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { Code, MeshError } from '@agentmesh/protocol';
import { createLogger } from '../logger';
import { ServiceRegistry, type RegisteredMethod } from '../service-registry';
import { createServerCall, statusFromHandlerError, toAsyncIterable, type ServerCall } from '../call-context';
import { methodPath, type CallContext, type MethodDefinition, type ServiceDefinition, type ServiceImplementation } from '../types';
import { encodeLengthPrefixed } from './wire-encoding';
import { metadataFromRecord, recordFromMetadata } from './grpc-metadata';
import { collectStream, nextCallId, raceSignal, type TransportServer, type TransportServerOptions } from './transport-server';
import { encodeMessage } from '../encode-message';

/** How a grpc server (and its client) carries streamed methods. */
export type GrpcMode = 'grpc' | 'unary';

/** Options of createGrpcServer. */
export interface GrpcServerOptions extends TransportServerOptions {
  /** `grpc` (default): streamed methods stream; `unary`: they are delivered whole. */
  mode?: GrpcMode;
  /** grpc-js server options (keepalive, message sizes). */
  serverOptions?: grpc.ServerOptions;
  /** Adds more services to the grpc-js server before it binds (health, reflection). */
  configureServer?(server: grpc.Server): void;
}

/**
 * The grpc-js service definition of a generic (ts-proto) definition, so grpc-js
 * can route and (de)serialize its methods. In `unary` mode a streamed method is
 * declared unary with a raw-bytes response (the length-prefixed events).
 */
export function createGrpcServiceDefinition(service: ServiceDefinition, mode: GrpcMode = 'grpc'): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [key, method] of Object.entries(service.methods)) {
    if (method.requestStream) continue; // agentmesh contracts have no client-streaming methods
    const whole = mode === 'unary' && method.responseStream;
    definition[key] = {
      path: methodPath(service, method),
      originalName: key,
      requestStream: false,
      responseStream: mode === 'grpc' && method.responseStream,
      requestSerialize: (value: unknown) => encodeMessage(method.requestType, value),
      requestDeserialize: (bytes: Buffer) => method.requestType.decode(bytes),
      responseSerialize: whole ? (value: unknown) => value as Buffer : (value: unknown) => encodeMessage(method.responseType, value),
      responseDeserialize: whole ? (bytes: Buffer) => bytes : (bytes: Buffer) => method.responseType.decode(bytes),
    };
  }
  return definition as grpc.ServiceDefinition;
}

/** Creates a native gRPC server over a (possibly shared) registry. */
export function createGrpcServer(options: GrpcServerOptions = {}): TransportServer {
  const mode = options.mode ?? 'grpc';
  const registry = options.registry ?? new ServiceRegistry();
  const log: Logger = options.log ?? createLogger(`${mode}-server`);
  const maxBuffered = options.maxBuffered ?? 1024;
  const server = new grpc.Server(options.serverOptions);
  const added = new Set<string>();
  const shutdown = new AbortController();
  // Every in-flight call listens on the shutdown signal.
  setMaxListeners(0, shutdown.signal);
  let listening = false;

  const startCall = (call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>, path: string): ServerCall => {
    const deadline = call.getDeadline();
    const ms = deadline instanceof Date ? deadline.getTime() : deadline;
    const serverCall = createServerCall({
      method: path,
      callId: nextCallId(mode),
      metadata: recordFromMetadata(call.metadata),
      deadline: Number.isFinite(ms) ? ms : undefined,
      peer: { id: call.getPeer(), address: call.getPeer(), transport: mode },
      log,
      parentSignal: shutdown.signal,
    });
    call.on('cancelled', () => serverCall.abort(Code.CANCELLED, 'the caller cancelled the call'));
    return serverCall;
  };

  const headerSender = (call: { sendMetadata(m: grpc.Metadata): void }, ctx: CallContext) => {
    let sent = false;
    return () => {
      if (sent) return;
      sent = true;
      call.sendMetadata(metadataFromRecord(ctx.responseHeaders));
    };
  };

  const failure = (error: unknown, ctx: CallContext): Partial<grpc.StatusObject> => {
    const status = statusFromHandlerError(error, ctx.log);
    return {
      code: status.code as number as grpc.status,
      details: status.message,
      metadata: metadataFromRecord({ ...ctx.trailers, ...status.metadata }, status.details),
    };
  };

  const unaryHandler = (registered: RegisteredMethod) => (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    const serverCall = startCall(call, registered.path);
    const { ctx } = serverCall;
    const sendHeaders = headerSender(call, ctx);
    const work = registered.method.responseStream
      ? () =>
          collectStream<unknown>(registered.handler(call.request, ctx), ctx.signal, maxBuffered).then((items) =>
            encodeLengthPrefixed(items.map((item) => encodeMessage(registered.method.responseType, item))),
          )
      : () => registered.handler(call.request, ctx);
    raceSignal(work, ctx.signal)
      .then(
        (value) => {
          sendHeaders();
          callback(null, value, metadataFromRecord(ctx.trailers));
        },
        (error) => {
          if (call.cancelled) return;
          sendHeaders();
          callback(failure(error, ctx));
        },
      )
      .finally(() => serverCall.finish());
  };

  const streamHandler = (registered: RegisteredMethod) => async (call: grpc.ServerWritableStream<unknown, unknown>) => {
    const serverCall = startCall(call, registered.path);
    const { ctx } = serverCall;
    const sendHeaders = headerSender(call, ctx);
    let iterator: AsyncIterator<unknown> | undefined;
    try {
      iterator = toAsyncIterable<unknown>(registered.handler(call.request, ctx), { maxBuffered })[Symbol.asyncIterator]();
      for (;;) {
        const next = await raceSignal(() => iterator!.next(), ctx.signal);
        if (next.done) break;
        sendHeaders();
        // Respect HTTP/2 flow control: a full write buffer pauses the handler.
        if (!call.write(next.value)) await waitForDrain(call, ctx.signal);
      }
      sendHeaders();
      call.end(metadataFromRecord(ctx.trailers));
    } catch (error) {
      if (!call.cancelled) {
        sendHeaders();
        call.emit('error', failure(error, ctx));
      }
    } finally {
      const aborted = ctx.signal.aborted;
      serverCall.finish();
      if (aborted) void iterator?.return?.()?.catch(() => undefined);
    }
  };

  const addService = (service: ServiceDefinition) => {
    if (added.has(service.fullName)) return;
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [key, method] of Object.entries(service.methods) as [string, MethodDefinition][]) {
      if (method.requestStream) continue;
      const registered = registry.lookup(methodPath(service, method));
      if (!registered) throw new MeshError(Code.INTERNAL, `registry has no handler for ${methodPath(service, method)}`);
      implementation[key] = (mode === 'grpc' && method.responseStream ? streamHandler(registered) : unaryHandler(registered)) as never;
    }
    server.addService(createGrpcServiceDefinition(service, mode), implementation);
    added.add(service.fullName);
  };

  const self: TransportServer = {
    registry,
    register<S extends ServiceDefinition>(service: S, implementation: ServiceImplementation<S>) {
      registry.register(service, implementation);
      if (listening) addService(service);
      return self;
    },
    listen(address: string) {
      for (const service of registry.list()) addService(service);
      options.configureServer?.(server);
      return new Promise<number>((resolve, reject) => {
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
          if (error) return reject(new MeshError(Code.UNAVAILABLE, `${mode} server could not bind ${address}: ${error.message}`, { cause: error }));
          listening = true;
          log.debug({ address, port }, 'listening');
          resolve(port);
        });
      });
    },
    close(graceMs = 0) {
      return new Promise<void>((resolve) => {
        const force = () => {
          shutdown.abort();
          server.forceShutdown();
          resolve();
        };
        if (graceMs <= 0) return force();
        const timer = setTimeout(force, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
  return self;
}

function waitForDrain(stream: NodeJS.EventEmitter, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      stream.off('drain', done);
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      stream.off('drain', done);
      reject(signal.reason);
    };
    stream.once('drain', done);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
