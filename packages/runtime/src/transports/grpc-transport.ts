/**
 * Calls agents over native grpc-js: `grpc` mode places unary methods as unary
 * calls and streamed methods as server-streaming calls; `unary` mode places
 * every method as a unary call and unpacks a streamed method's length-prefixed
 * events. Must match the server's mode (createGrpcServer).
 */
import * as grpc from '@grpc/grpc-js';
import { normalizeMetadata, resolveDeadline } from '../client';
import { methodPath, type CallOptions, type CallTransport, type MethodDefinition, type ServiceDefinition, type StreamControl, type StreamSink } from '../types';
import { decodeLengthPrefixed } from './wire-encoding';
import { deliverWhole } from './whole-stream';
import { errorFromGrpcStatus, metadataFromRecord, recordFromMetadata } from './grpc-metadata';
import type { GrpcMode } from './grpc-server';
import { encodeMessage } from '../encode-message';

/** Options of createGrpcTransport. */
export interface GrpcTransportOptions {
  /** Must match the server's mode (default `grpc`). */
  mode?: GrpcMode;
  credentials?: grpc.ChannelCredentials;
  /** grpc-js channel options (keepalive, message sizes). */
  channelOptions?: grpc.ChannelOptions;
  /** Stream items delivered ahead of the consumer before the HTTP/2 stream is paused (default 64). */
  streamWindow?: number;
}

/** Creates a CallTransport over one grpc-js channel (one HTTP/2 connection) to `address` ("host:port"). */
export function createGrpcTransport(address: string, options: GrpcTransportOptions = {}): CallTransport {
  const mode = options.mode ?? 'grpc';
  const window = options.streamWindow ?? 64;
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
  const serializer = (method: MethodDefinition) => (value: unknown) => encodeMessage(method.requestType, value);
  const callOptions = (options: CallOptions): grpc.CallOptions => {
    const deadline = resolveDeadline(options);
    return deadline === undefined ? {} : { deadline: new Date(deadline) };
  };

  // Places a unary call; resolves with the raw decoded response.
  const unaryCall = <T>(
    service: ServiceDefinition,
    method: MethodDefinition,
    request: unknown,
    options: CallOptions,
    deserialize: (bytes: Buffer) => T,
  ): { promise: Promise<T>; cancel(): void } => {
    let call: grpc.ClientUnaryCall | undefined;
    let callerReason: { reason: unknown } | undefined;
    const signal = options.signal;
    const promise = new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        callerReason = { reason: signal!.reason };
        call?.cancel();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      call = client.makeUnaryRequest(
        methodPath(service, method),
        serializer(method),
        deserialize,
        request,
        metadataFromRecord(normalizeMetadata(options.metadata)),
        callOptions(options),
        (error, value) => {
          signal?.removeEventListener('abort', onAbort);
          if (callerReason) reject(callerReason.reason);
          else if (error) reject(errorFromGrpcStatus(error));
          else resolve(value as T);
        },
      );
      call.on('metadata', (metadata: grpc.Metadata) => options.onHeaders?.(recordFromMetadata(metadata)));
      call.on('status', (status: grpc.StatusObject) => options.onTrailers?.(recordFromMetadata(status.metadata)));
    });
    return { promise, cancel: () => call?.cancel() };
  };

  const streamWhole = <Res>(
    service: ServiceDefinition,
    method: MethodDefinition<unknown, Res>,
    request: unknown,
    options: CallOptions,
    sink: StreamSink<Res>,
  ): StreamControl =>
    deliverWhole(
      unaryCall(service, method, request, options, (bytes) => bytes),
      (bytes) => decodeLengthPrefixed(bytes).map((item) => method.responseType.decode(item)),
      sink,
    );

  const streamIncremental = <Res>(
    service: ServiceDefinition,
    method: MethodDefinition<unknown, Res>,
    request: unknown,
    options: CallOptions,
    sink: StreamSink<Res>,
  ): StreamControl => {
    let ended = false;
    let credit = window;
    const signal = options.signal;
    const finish = (outcome: () => void) => {
      if (ended) return;
      ended = true;
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = () => {
      finish(() => sink.error(signal!.reason));
      call.cancel();
    };
    if (signal?.aborted) {
      queueMicrotask(() => sink.error(signal.reason));
      return { cancel: () => undefined, consumed: () => undefined };
    }
    const call = client.makeServerStreamRequest(
      methodPath(service, method),
      serializer(method),
      (bytes: Buffer) => method.responseType.decode(bytes),
      request,
      metadataFromRecord(normalizeMetadata(options.metadata)),
      callOptions(options),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    call.on('metadata', (metadata: grpc.Metadata) => options.onHeaders?.(recordFromMetadata(metadata)));
    call.on('status', (status: grpc.StatusObject) => options.onTrailers?.(recordFromMetadata(status.metadata)));
    call.on('data', (value: Res) => {
      if (ended) return;
      sink.next(value);
      // Pause the HTTP/2 stream when the consumer falls a window behind.
      if (--credit <= 0 && !ended) call.pause();
    });
    call.on('error', (error: grpc.ServiceError) => finish(() => sink.error(errorFromGrpcStatus(error))));
    call.on('end', () => finish(() => sink.complete()));
    return {
      cancel: () => {
        if (ended) return;
        finish(() => undefined);
        call.cancel();
      },
      consumed: (count: number) => {
        credit += count;
        if (credit > 0 && call.isPaused()) call.resume();
      },
    };
  };

  return {
    name: mode,
    unary<Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions): Promise<Res> {
      return unaryCall(service, method, request, options, (bytes) => method.responseType.decode(bytes)).promise;
    },
    stream<Req, Res>(
      service: ServiceDefinition,
      method: MethodDefinition<Req, Res>,
      request: Req,
      options: CallOptions,
      sink: StreamSink<Res>,
    ): StreamControl {
      return mode === 'unary'
        ? streamWhole(service, method as MethodDefinition<unknown, Res>, request, options, sink)
        : streamIncremental(service, method as MethodDefinition<unknown, Res>, request, options, sink);
    },
    close: async () => client.close(),
  };
}
