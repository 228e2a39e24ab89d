/**
 * Interceptors: the one place metrics, traces and logs wrap every call. Server
 * interceptors sit on the ServiceRegistry, which every server transport (mesh,
 * grpc, unary, rest) goes through; client interceptors decorate a CallTransport,
 * which every typed client goes through. Both are onions: the first one given
 * is the outermost layer.
 */
import { isObservable, Observable } from 'rxjs';
import { Code, MeshError } from '@agentmesh/protocol';
import type { CallContext, CallOptions, CallTransport, MethodDefinition, ServiceDefinition, StreamControl, StreamSink, TransportName } from '../types';

/** A handler as the registry holds it: returns a value, a Promise, an AsyncIterable or an Observable. */
export type ServerHandler = (request: any, ctx: CallContext) => any;

/** What a server interceptor knows about the method it wraps, fixed for the method's lifetime. */
export interface ServerMethodInfo {
  readonly path: string;
  readonly service: ServiceDefinition;
  readonly method: MethodDefinition;
}

/** Wraps a handler: `(next, info) => (request, ctx) => next(request, ctx)`. */
export type ServerInterceptor = (next: ServerHandler, info: ServerMethodInfo) => ServerHandler;

/** One outgoing call as a client interceptor sees it; `sink` is set for server-streaming calls. */
export interface OutgoingCall {
  /** The transport the call goes over. */
  readonly transport: TransportName;
  readonly service: ServiceDefinition;
  readonly method: MethodDefinition;
  readonly request: unknown;
  /** Interceptors may replace it (to add metadata, say) before calling next. */
  options: CallOptions;
  readonly sink?: StreamSink<unknown>;
}

/** Places a call: a Promise for a unary call, a StreamControl for a streaming one. */
export type CallInvoker = (call: OutgoingCall) => Promise<unknown> | StreamControl;

/** Wraps the placing of calls: `(next) => (call) => next(call)`. */
export type ClientInterceptor = (next: CallInvoker) => CallInvoker;

/** How a call ended: undefined for success, else the error (a MeshError where the transport gave one). */
export type CallOutcome = unknown;

/** The gRPC status name of how a call ended, for metric labels and span status. */
export function statusName(error: CallOutcome): string {
  if (error === undefined) return 'OK';
  const code = error instanceof MeshError ? error.code : Code.UNKNOWN;
  return Code[code] ?? String(code);
}

/** Composes server interceptors around a handler; the first is the outermost. */
export function composeServerInterceptors(handler: ServerHandler, info: ServerMethodInfo, interceptors: readonly ServerInterceptor[]): ServerHandler {
  let composed = handler;
  for (let i = interceptors.length - 1; i >= 0; i--) composed = interceptors[i](composed, info);
  return composed;
}

/** Hooks around the running of a handler's result; `run` lets a tracer run each step in its context. */
export interface ResultObserver {
  /** Called exactly once, when the call ends: success (undefined), a thrown error, or a consumer's early stop. */
  end(error: CallOutcome): void;
  /** Runs a piece of the handler's work (the first call, each pull of a stream). */
  run?<T>(work: () => T): T;
}

/** The same promise, with `end` told how it settled. */
function settled<T>(promise: Promise<T>, end: (error: CallOutcome) => void): Promise<T> {
  return promise.then(
    (value) => {
      end(undefined);
      return value;
    },
    (error) => {
      end(error);
      throw error;
    },
  );
}

const stoppedEarly = new MeshError(Code.CANCELLED, 'the consumer stopped the stream early');

/**
 * Calls next and observes whatever it returns, so an interceptor can tell when a
 * call really ends: a unary result when its Promise settles, a stream when its
 * AsyncIterable finishes or its Observable completes, errors or is unsubscribed.
 * The result keeps its shape (AsyncIterable stays pull-based, Observable stays an Observable).
 */
export function observeHandler(next: ServerHandler, request: unknown, ctx: CallContext, streaming: boolean, observer: ResultObserver): unknown {
  const run = observer.run ?? (<T>(work: () => T) => work());
  let ended = false;
  const end = (error: CallOutcome) => {
    if (ended) return;
    ended = true;
    observer.end(error);
  };
  let result: unknown;
  try {
    result = run(() => next(request, ctx));
  } catch (error) {
    end(error);
    throw error;
  }
  if (!streaming) return settled(Promise.resolve(result), end);
  if (isObservable(result)) {
    const source = result as Observable<unknown>;
    return new Observable<unknown>((subscriber) => {
      const subscription = run(() =>
        source.subscribe({
          next: (value) => subscriber.next(value),
          error: (error) => {
            end(error);
            subscriber.error(error);
          },
          complete: () => {
            end(undefined);
            subscriber.complete();
          },
        }),
      );
      return () => {
        subscription.unsubscribe();
        end(stoppedEarly);
      };
    });
  }
  if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const iterable = result as AsyncIterable<unknown>;
    return {
      [Symbol.asyncIterator](): AsyncIterator<unknown> {
        const iterator = run(() => iterable[Symbol.asyncIterator]());
        return {
          next: () =>
            run(() => iterator.next()).then(
              (step) => {
                if (step.done) end(undefined);
                return step;
              },
              (error) => {
                end(error);
                throw error;
              },
            ),
          return: (value?: unknown) => {
            end(stoppedEarly);
            return iterator.return ? run(() => iterator.return!(value)) : Promise.resolve({ value: undefined, done: true });
          },
        };
      },
    };
  }
  end(undefined);
  return result; // not a stream: the transport reports the misuse
}

/** Hooks around one outgoing call, for observeCall. */
export interface OutgoingObserver {
  end(error: CallOutcome): void;
}

/**
 * Calls next and tells the observer once when the call ends, whether it is a
 * unary Promise or a stream delivering into its sink (completed, failed or cancelled).
 */
export function observeCall(next: CallInvoker, call: OutgoingCall, observer: OutgoingObserver): Promise<unknown> | StreamControl {
  let ended = false;
  const end = (error: CallOutcome) => {
    if (ended) return;
    ended = true;
    observer.end(error);
  };
  if (!call.sink) {
    let pending: Promise<unknown> | StreamControl;
    try {
      pending = next(call);
    } catch (error) {
      end(error);
      throw error;
    }
    return settled(pending as Promise<unknown>, end);
  }
  const sink = call.sink;
  const wrapped: StreamSink<unknown> = {
    next: (value) => sink.next(value),
    error: (error) => {
      end(error);
      sink.error(error);
    },
    complete: () => {
      end(undefined);
      sink.complete();
    },
  };
  let control: StreamControl;
  try {
    control = next({ ...call, options: call.options, sink: wrapped }) as StreamControl;
  } catch (error) {
    end(error);
    throw error;
  }
  return {
    cancel: (reason?: unknown) => {
      control.cancel(reason);
      end(reason instanceof MeshError ? reason : new MeshError(Code.CANCELLED, 'the caller cancelled the call'));
    },
    consumed: (count) => control.consumed(count),
  };
}

/**
 * Decorates a transport with client interceptors, so a typed client built on it
 * (createServiceClient) has every call counted, timed and traced in one place.
 */
export function withClientInterceptors(transport: CallTransport, ...interceptors: ClientInterceptor[]): CallTransport {
  if (interceptors.length === 0) return transport;
  const base: CallInvoker = (call) =>
    call.sink
      ? transport.stream(call.service, call.method, call.request, call.options, call.sink)
      : transport.unary(call.service, call.method, call.request, call.options);
  let invoke = base;
  for (let i = interceptors.length - 1; i >= 0; i--) invoke = interceptors[i](invoke);
  return {
    name: transport.name,
    unary: <Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions) =>
      invoke({ transport: transport.name, service, method, request, options }) as Promise<Res>,
    stream: <Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions, sink: StreamSink<Res>) =>
      invoke({ transport: transport.name, service, method, request, options, sink: sink as StreamSink<unknown> }) as StreamControl,
    close: () => transport.close(),
  };
}
