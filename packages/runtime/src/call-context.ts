/**
 * Builds the context a handler sees and turns whatever a handler returns or
 * throws into what goes on the wire. Shared by every server transport so they
 * behave the same.
 */
import { isObservable, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import { Code, MeshError, type ErrorDetail } from '@agentmesh/protocol';
import type { CallContext, PeerInfo } from './types';

/** What a server transport knows when a call arrives. */
export interface CallContextInit {
  method: string;
  callId: string;
  metadata: Record<string, string>;
  deadline: number | undefined;
  peer: PeerInfo;
  log: Logger;
  /** Aborts the handler when this fires (session loss, server shutdown). */
  parentSignal?: AbortSignal;
  /** Called once when the call is aborted (deadline, parent, abort()), not on finish(). */
  onAbort?(reason: MeshError): void;
}

/** A server transport's handle on one call: the handler's context and the means to end it. */
export interface ServerCall {
  readonly ctx: CallContext;
  /** Aborts the handler's signal with a MeshError of this code; idempotent. */
  abort(code: Code, message: string): void;
  /** Ends the call: fires the signal (as handlers are promised) and frees timers. */
  finish(): void;
}

/** The abort reason of a call that finished normally; shared, since it carries no per-call facts. */
export const CALL_FINISHED: MeshError = new MeshError(Code.OK, 'the call has finished');

/**
 * Creates a handler context whose signal fires on deadline, on the parent's
 * abort, on abort(), and on finish(). The AbortController and the child logger
 * are made only when a handler asks for them: most calls on a hot path never do,
 * and both cost more than the rest of a call's bookkeeping.
 */
export function createServerCall(init: CallContextInit): ServerCall {
  let controller: AbortController | undefined;
  let reason: MeshError | undefined;
  let log: Logger | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onParentAbort = () => abort(Code.UNAVAILABLE, 'the connection to the caller was lost');
  const cleanup = () => {
    if (timer) clearTimeout(timer);
    init.parentSignal?.removeEventListener('abort', onParentAbort);
  };
  const end = (why: MeshError) => {
    if (reason) return false;
    reason = why;
    cleanup();
    controller?.abort(why);
    return true;
  };
  const abort = (code: Code, message: string) => {
    const why = new MeshError(code, message);
    if (end(why)) init.onAbort?.(why);
  };
  if (init.deadline !== undefined) {
    const remaining = init.deadline - Date.now();
    if (remaining <= 0) abort(Code.DEADLINE_EXCEEDED, 'the deadline had passed when the call arrived');
    else {
      timer = setTimeout(() => abort(Code.DEADLINE_EXCEEDED, `the deadline passed (${init.method})`), remaining);
      timer.unref?.();
    }
  }
  if (init.parentSignal?.aborted) onParentAbort();
  else init.parentSignal?.addEventListener('abort', onParentAbort, { once: true });
  const ctx: CallContext = {
    method: init.method,
    callId: init.callId,
    get signal(): AbortSignal {
      if (!controller) {
        controller = new AbortController();
        if (reason) controller.abort(reason);
      }
      return controller.signal;
    },
    metadata: init.metadata,
    deadline: init.deadline,
    peer: init.peer,
    get log(): Logger {
      return (log ??= init.log.child({ callId: init.callId, method: init.method, peer: init.peer.id }));
    },
    responseHeaders: {},
    trailers: {},
  };
  return { ctx, abort, finish: () => void end(CALL_FINISHED) };
}

/** A status ready for the wire. */
export interface WireStatus {
  code: Code;
  message: string;
  details: ErrorDetail[];
  metadata: Record<string, string>;
}

/**
 * Turns what a handler threw into the status its peer sees. A MeshError goes
 * out as it is; anything else is logged whole here and goes out as a generic
 * INTERNAL, so a handler's internals never leak to a peer.
 */
export function statusFromHandlerError(error: unknown, log: Logger): WireStatus {
  if (error instanceof MeshError) {
    if (error.code === Code.INTERNAL || error.code === Code.UNKNOWN) log.error({ err: error }, 'handler failed');
    return { code: error.code, message: error.rawMessage, details: error.details, metadata: error.metadata };
  }
  log.error({ err: error }, 'handler threw an unexpected error');
  return { code: Code.INTERNAL, message: 'internal error', details: [], metadata: {} };
}

/** Turns a status that arrived from a peer back into the error a caller sees. */
export function errorFromStatus(status: { code: number; message: string; details?: ErrorDetail[]; metadata?: Record<string, string> }): MeshError {
  return new MeshError(status.code as Code, status.message, { details: status.details, metadata: status.metadata });
}

/** What a streaming handler may return. */
export type StreamResult<T> = AsyncIterable<T> | Observable<T>;

/** Options of toAsyncIterable. */
export interface ToAsyncIterableOptions {
  /** Items an Observable may push ahead of the consumer before the call fails with RESOURCE_EXHAUSTED. */
  maxBuffered: number;
}

/**
 * Gives a streaming handler's result one pull-based shape. An async iterable is
 * pulled only when the transport has credit; an Observable cannot be paused,
 * so it is buffered up to a bound and overflow fails the call.
 */
export function toAsyncIterable<T>(result: StreamResult<T>, options: ToAsyncIterableOptions): AsyncIterable<T> {
  if (isObservable(result)) return observableToAsyncIterable(result as Observable<T>, options.maxBuffered);
  if (result && typeof (result as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') return result as AsyncIterable<T>;
  throw new MeshError(Code.INTERNAL, 'a streaming handler must return an AsyncIterable or an Observable');
}

function observableToAsyncIterable<T>(source: Observable<T>, maxBuffered: number): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const buffered: T[] = [];
      let failure: { error: unknown } | undefined;
      let done = false;
      let waiting: ((r: IteratorResult<T>) => void) | undefined;
      let waitingReject: ((e: unknown) => void) | undefined;
      const wake = () => {
        if (!waiting) return;
        const resolve = waiting;
        const reject = waitingReject!;
        waiting = waitingReject = undefined;
        if (buffered.length) resolve({ value: buffered.shift() as T, done: false });
        else if (failure) reject(failure.error);
        else if (done) resolve({ value: undefined, done: true });
      };
      const subscription = source.subscribe({
        next: (value) => {
          if (done) return;
          buffered.push(value);
          if (buffered.length > maxBuffered) {
            failure = {
              error: new MeshError(Code.RESOURCE_EXHAUSTED, `the handler's Observable pushed more than ${maxBuffered} items ahead of a slow consumer`),
            };
            buffered.length = 0;
            done = true;
            subscription?.unsubscribe();
          }
          wake();
        },
        error: (error) => {
          failure = { error };
          done = true;
          wake();
        },
        complete: () => {
          done = true;
          wake();
        },
      });
      return {
        next: () => {
          if (buffered.length) return Promise.resolve({ value: buffered.shift() as T, done: false });
          if (failure) return Promise.reject(failure.error);
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise<IteratorResult<T>>((resolve, reject) => {
            waiting = resolve;
            waitingReject = reject;
          });
        },
        return: () => {
          done = true;
          subscription.unsubscribe();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}
