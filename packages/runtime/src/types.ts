/**
 * The shapes every transport shares: service definitions (as ts-proto's
 * generic definitions), handlers, call contexts and typed clients. A handler is
 * written once against these and served over the mesh, native gRPC or REST.
 */
import type { Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { BinaryWriter } from '@agentmesh/protocol';
import type { ResponseStream } from './response-stream';

/** The message functions ts-proto generates for every message type. */
export interface MessageType<T> {
  /** Encodes into `writer` when given (a reused writer saves buffer growth), else a fresh one. */
  encode(message: T, writer?: BinaryWriter): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
  fromPartial(object: any): T;
}

/** One method of a service, as ts-proto's `outputServices=generic-definitions` emits it. */
export interface MethodDefinition<Request = any, Response = any, ResponseStreaming extends boolean = boolean> {
  readonly name: string;
  readonly requestType: MessageType<Request>;
  readonly requestStream: boolean;
  readonly responseType: MessageType<Response>;
  readonly responseStream: ResponseStreaming;
  readonly options?: unknown;
}

/** A service, as ts-proto's generic definitions emit it (`PlannerServiceDefinition`). */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: { readonly [method: string]: MethodDefinition };
}

/** Full gRPC method path, "/agentmesh.v1.EchoService/Echo": the key a method is routed by. */
export function methodPath(service: ServiceDefinition, method: MethodDefinition): string {
  return `/${service.fullName}/${method.name}`;
}

/** Names of the transports a call can travel over. */
export type TransportName = 'mesh' | 'grpc' | 'unary' | 'rest' | 'rest-nokeepalive' | 'in-process';

/** Who is on the other end of a call. */
export interface PeerInfo {
  /** The peer's declared identity (its hello), or its address where it declares none. */
  readonly id: string;
  readonly address: string;
  readonly transport: TransportName;
}

/** What a handler knows about the call it is serving. */
export interface CallContext {
  /** Full method path. */
  readonly method: string;
  readonly callId: string;
  /**
   * Fires when the call ends for any reason: the caller cancelled, the deadline
   * passed, the peer was lost, the server is shutting down, or the handler finished.
   */
  readonly signal: AbortSignal;
  /** Request metadata (lower-case keys), including `traceparent` when traced. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Deadline as epoch milliseconds, or undefined when the call has none. */
  readonly deadline: number | undefined;
  readonly peer: PeerInfo;
  /** A pino child logger carrying call id, method and peer. */
  readonly log: Logger;
  /** Response headers; sent with the first response message. */
  readonly responseHeaders: Record<string, string>;
  /** Response trailers; sent with the final status. */
  readonly trailers: Record<string, string>;
}

/** A handler for a request/response method. */
export type UnaryHandler<Request, Response> = (request: Request, ctx: CallContext) => Promise<Response> | Response;

/** A handler for a server-streaming method: an async generator or an rxjs Observable. */
export type StreamingHandler<Request, Response> = (
  request: Request,
  ctx: CallContext,
) => AsyncIterable<Response> | Observable<Response>;

/** The handlers of a service, typed from its definition. */
export type ServiceImplementation<S extends ServiceDefinition> = {
  [K in keyof S['methods']]: S['methods'][K] extends MethodDefinition<infer Request, infer Response, infer Streaming>
    ? Streaming extends true
      ? StreamingHandler<Request, Response>
      : UnaryHandler<Request, Response>
    : never;
};

/** Partial messages are accepted wherever a request is sent; missing fields take proto defaults. */
export type DeepPartial<T> = T extends Buffer | Uint8Array
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends { $case: string }
      ? { [K in keyof T]?: DeepPartial<T[K]> } & { $case: T['$case'] }
      : T extends object
        ? { [K in keyof T]?: DeepPartial<T[K]> }
        : T;

/** Per-call options every client accepts. */
export interface CallOptions {
  /** Time allowed for the whole call; becomes the deadline. */
  timeoutMs?: number;
  /** Absolute deadline (Date or epoch milliseconds); the earlier of this and timeoutMs wins. */
  deadline?: Date | number;
  /** Aborting it cancels the call on the wire; the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Request metadata. Keys are lower-cased. */
  metadata?: Record<string, string>;
  /** Safe to retry on a fresh session if the old one cannot resume. */
  idempotent?: boolean;
  /** Called with the response headers when they arrive. */
  onHeaders?: (headers: Record<string, string>) => void;
  /** Called with the trailers when the call ends, with or without an error. */
  onTrailers?: (trailers: Record<string, string>) => void;
}

/** A typed client: unary methods return Promises, streaming methods ResponseStreams (Observable and AsyncIterable). */
export type ServiceClient<S extends ServiceDefinition> = {
  [K in keyof S['methods']]: S['methods'][K] extends MethodDefinition<infer Request, infer Response, infer Streaming>
    ? Streaming extends true
      ? (request: DeepPartial<Request>, options?: CallOptions) => ResponseStream<Response>
      : (request: DeepPartial<Request>, options?: CallOptions) => Promise<Response>
    : never;
};

/**
 * What a transport must do to place one call; typed clients are built on it,
 * so every transport gets the same client surface.
 */
export interface CallTransport {
  readonly name: TransportName;
  /** Places a unary call. */
  unary<Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions): Promise<Res>;
  /** Places a server-streaming call, delivering into the sink; returns its control. */
  stream<Req, Res>(
    service: ServiceDefinition,
    method: MethodDefinition<Req, Res>,
    request: Req,
    options: CallOptions,
    sink: StreamSink<Res>,
  ): StreamControl;
  /** Closes connections this transport holds. */
  close(): Promise<void>;
}

/** Where a streaming call delivers its items. */
export interface StreamSink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/** The caller's handle on a running streaming call. */
export interface StreamControl {
  /** Stops the call (sends cancel on the wire). A no-op once the call ended. */
  cancel(reason?: unknown): void;
  /** The consumer has taken `count` more items: grants the producer that much more credit. */
  consumed(count: number): void;
}
