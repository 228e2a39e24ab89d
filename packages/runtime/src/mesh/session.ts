/**
 * One mesh session: the two ends of a long-lived bidirectional stream, with
 * every call between two peers multiplexed on it by call id. The session is
 * symmetric: either side may place calls and either may serve them; the side
 * that dialed allocates odd call ids and the side that accepted even ones, so
 * ids never collide.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import {
  Code,
  MeshError,
  MESH_PROTOCOL_VERSION,
  codeName,
  type Frame,
  type FrameBatch,
  type Hello,
} from '@agentmesh/protocol';
import { createServerCall, errorFromStatus, statusFromHandlerError, toAsyncIterable, type ServerCall } from '../call-context';
import type { ServiceRegistry, RegisteredMethod } from '../service-registry';
import type { CallOptions, MethodDefinition, PeerInfo, StreamControl, StreamSink } from '../types';
import { resolveDeadline, normalizeMetadata } from '../client';
import { FrameWriter } from './frame-writer';

/** Limits a session enforces; each refusal names the limit. */
export interface SessionLimits {
  /** Largest message payload accepted, in bytes. */
  maxMessageBytes: number;
  /** Calls a peer may have open on this session at once. */
  maxConcurrentCalls: number;
  /** Messages a call may send before its first window update. */
  initialWindow: number;
  /** Items a handler's Observable may push ahead of a slow consumer. */
  maxBufferedItems: number;
  /** Bytes queued for writing above which producers wait. */
  writeHighWaterBytes: number;
}

/** Default limits: generous enough for agents, bounded so nothing grows without limit. */
export const defaultSessionLimits: SessionLimits = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxConcurrentCalls: 10_000,
  initialWindow: 256,
  maxBufferedItems: 10_000,
  writeHighWaterBytes: 8 * 1024 * 1024,
};

/** The byte stream a session runs over: one gRPC Connect stream, or an in-process pair. */
export interface FrameChannel {
  /** Writes one batch; false means wait for drain. */
  write(batch: FrameBatch): boolean;
  /** Ends the stream cleanly. */
  end(): void;
  /** The remote address, for logs and ctx.peer. */
  readonly remoteAddress: string;
}

/** Options of a Session. */
export interface SessionOptions {
  role: 'dialer' | 'acceptor';
  identity: string;
  channel: FrameChannel;
  log: Logger;
  registry?: ServiceRegistry;
  limits?: Partial<SessionLimits>;
  /** Assigned by the acceptor; the dialer learns it from the peer's hello. */
  sessionId?: string;
  /** Called once when the session has ended, for pools and servers. */
  onClose?(session: Session, error: MeshError | undefined): void;
  /** Called with each batch written, for metrics. */
  onBatch?(frames: number, bytes: number): void;
}

/** Counters of one session. */
export interface SessionStats {
  framesSent: number;
  framesReceived: number;
  batchesSent: number;
  batchesReceived: number;
  callsStarted: number;
  callsServed: number;
  protocolErrors: number;
}

interface OutgoingCall {
  readonly id: number;
  readonly method: MethodDefinition;
  readonly path: string;
  readonly streaming: boolean;
  readonly sink: StreamSink<unknown>;
  readonly options: CallOptions;
  response?: unknown;
  responses: number;
  unacknowledged: number;
  cleanup(): void;
}

interface IncomingCall {
  readonly id: number;
  readonly registered: RegisteredMethod;
  readonly server: ServerCall;
  request?: unknown;
  requestSeen: boolean;
  halfClosed: boolean;
  started: boolean;
  credits: number;
  creditWaiter?: () => void;
  iterator?: AsyncIterator<unknown>;
  headersSent: boolean;
}

/** A session: multiplexed calls over one stream. */
export class Session {
  readonly role: 'dialer' | 'acceptor';
  readonly identity: string;
  readonly stats: SessionStats = {
    framesSent: 0,
    framesReceived: 0,
    batchesSent: 0,
    batchesReceived: 0,
    callsStarted: 0,
    callsServed: 0,
    protocolErrors: 0,
  };
  readonly limits: SessionLimits;
  sessionId: string;
  /** The peer's hello, once it arrived. */
  peerHello: Hello | undefined;
  private readonly log: Logger;
  private readonly channel: FrameChannel;
  private readonly writer: FrameWriter;
  private readonly registry?: ServiceRegistry;
  private readonly outgoing = new Map<number, OutgoingCall>();
  private readonly incoming = new Map<number, IncomingCall>();
  private readonly lifetime = new AbortController();
  private nextCallId: number;
  private highestPeerCallId = 0;
  private sendSeq = 0;
  private receiveSeq = 0;
  private closedError: MeshError | undefined;
  private closed = false;
  private goingAway = false;
  private readonly helloWaiters: Array<() => void> = [];

  constructor(private readonly options: SessionOptions) {
    this.role = options.role;
    this.identity = options.identity;
    this.channel = options.channel;
    this.registry = options.registry;
    this.limits = { ...defaultSessionLimits, ...options.limits };
    this.sessionId = options.sessionId ?? '';
    this.nextCallId = options.role === 'dialer' ? 1 : 2;
    setMaxListeners(0, this.lifetime.signal); // one listener per call in flight, by design
    this.log = options.log.child({ session: this.sessionId || undefined, role: this.role });
    this.writer = new FrameWriter({
      write: (batch) => {
        this.stats.batchesSent++;
        this.stats.framesSent += batch.frames.length;
        return this.channel.write(batch);
      },
      highWaterBytes: this.limits.writeHighWaterBytes,
      onBatch: options.onBatch,
    });
    if (this.role === 'dialer') this.sendHello();
  }

  /** True until the session has ended. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** True once the peer said goaway: no new calls may be placed here. */
  get isDraining(): boolean {
    return this.goingAway;
  }

  /** Calls in flight, both directions. */
  get activeCalls(): number {
    return this.outgoing.size + this.incoming.size;
  }

  /** The peer as handlers see it. */
  get peer(): PeerInfo {
    return { id: this.peerHello?.peerId || this.channel.remoteAddress, address: this.channel.remoteAddress, transport: 'mesh' };
  }

  /** Resolves when the peer's hello has arrived (or the session ended). */
  whenReady(): Promise<void> {
    if (this.peerHello || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.helloWaiters.push(resolve));
  }

  /** The stream is writable again. */
  drained(): void {
    this.writer.drained();
  }

  // ---------------------------------------------------------------- calls out

  /** Places a unary call on this session. */
  unary<Req, Res>(path: string, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.startCall(path, method, request, options, false, {
        next: () => undefined,
        error: reject,
        complete: () => undefined,
      }, resolve as (value: unknown) => void);
    });
  }

  /** Places a server-streaming call on this session. */
  stream<Req, Res>(path: string, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions, sink: StreamSink<Res>): StreamControl {
    return this.startCall(path, method, request, options, true, sink as StreamSink<unknown>);
  }

  private startCall(
    path: string,
    method: MethodDefinition,
    request: unknown,
    options: CallOptions,
    streaming: boolean,
    sink: StreamSink<unknown>,
    resolveUnary?: (value: unknown) => void,
  ): StreamControl {
    const noop: StreamControl = { cancel: () => undefined, consumed: () => undefined };
    if (this.closed) {
      sink.error(this.closedError ?? new MeshError(Code.UNAVAILABLE, 'the mesh session is closed'));
      return noop;
    }
    if (this.goingAway) {
      sink.error(new MeshError(Code.UNAVAILABLE, 'the peer is draining this session (goaway); place the call on a new session'));
      return noop;
    }
    if (options.signal?.aborted) {
      sink.error(options.signal.reason);
      return noop;
    }
    let payload: Uint8Array;
    try {
      payload = method.requestType.encode(request).finish();
    } catch (error) {
      sink.error(new MeshError(Code.INVALID_ARGUMENT, `could not encode the request for ${path}: ${(error as Error).message}`, { cause: error }));
      return noop;
    }
    const peerLimit = this.peerHello?.maxMessageBytes || this.limits.maxMessageBytes;
    if (payload.length > peerLimit) {
      sink.error(new MeshError(Code.RESOURCE_EXHAUSTED, `the request to ${path} is ${payload.length} bytes, over the peer's limit of ${peerLimit} bytes`));
      return noop;
    }
    const deadline = resolveDeadline(options);
    const id = this.nextCallId;
    this.nextCallId += 2;
    this.stats.callsStarted++;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (!this.outgoing.has(id)) return;
      this.sendFrame(id, { $case: 'cancel', cancel: { reason: 'the caller aborted' } });
      this.failOutgoing(id, options.signal?.reason ?? new MeshError(Code.CANCELLED, 'the caller aborted'));
    };
    const call: OutgoingCall = {
      id,
      method,
      path,
      streaming,
      options,
      responses: 0,
      unacknowledged: 0,
      sink: resolveUnary
        ? {
            next: () => undefined,
            error: sink.error,
            complete: () => {
              if (call.response === undefined) sink.error(new MeshError(Code.INTERNAL, `${path} ended without a response`));
              else resolveUnary(call.response);
            },
          }
        : sink,
      cleanup: () => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      },
    };
    this.outgoing.set(id, call);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let timeoutMs = 0;
    if (deadline !== undefined) {
      timeoutMs = Math.max(1, deadline - Date.now());
      timer = setTimeout(() => {
        if (!this.outgoing.has(id)) return;
        this.sendFrame(id, { $case: 'cancel', cancel: { reason: 'deadline exceeded' } });
        this.failOutgoing(id, new MeshError(Code.DEADLINE_EXCEEDED, `${path} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
    }
    this.sendFrame(id, {
      $case: 'open',
      open: { method: path, timeoutMs, metadata: normalizeMetadata(options.metadata), idempotent: options.idempotent ?? false },
    });
    this.sendFrame(id, { $case: 'message', message: { payload: Buffer.from(payload.buffer, payload.byteOffset, payload.length) } });
    this.sendFrame(id, { $case: 'halfClose', halfClose: {} });
    return {
      cancel: () => {
        if (!this.outgoing.has(id)) return;
        this.sendFrame(id, { $case: 'cancel', cancel: { reason: 'the caller cancelled' } });
        const c = this.outgoing.get(id)!;
        this.outgoing.delete(id);
        c.cleanup();
      },
      consumed: (count) => {
        const c = this.outgoing.get(id);
        if (!c) return;
        c.unacknowledged += count;
        // Grant credit back in chunks of half a window, as HTTP/2 does.
        if (c.unacknowledged >= Math.max(1, this.limits.initialWindow >> 1)) {
          this.sendFrame(id, { $case: 'windowUpdate', windowUpdate: { increment: c.unacknowledged } });
          c.unacknowledged = 0;
        }
      },
    };
  }

  private failOutgoing(id: number, error: unknown): void {
    const call = this.outgoing.get(id);
    if (!call) return;
    this.outgoing.delete(id);
    call.cleanup();
    call.sink.error(error);
  }

  // ---------------------------------------------------------------- receiving

  /** Handles one batch from the peer. Never throws: a bad frame gets an error frame and a log line. */
  receive(batch: FrameBatch): void {
    this.stats.batchesReceived++;
    for (const frame of batch.frames) {
      this.stats.framesReceived++;
      try {
        this.receiveFrame(frame);
      } catch (error) {
        this.protocolError(frame.callId, Code.INTERNAL, `the frame could not be handled: ${(error as Error).message}`, error);
      }
    }
  }

  /** Reports a batch that could not be decoded; the session goes on. */
  receiveUndecodable(error: unknown): void {
    this.protocolError(0, Code.INVALID_ARGUMENT, `a frame batch could not be decoded: ${(error as Error).message}`, error);
  }

  private receiveFrame(frame: Frame): void {
    const kind = frame.kind;
    if (!kind) {
      this.protocolError(frame.callId, Code.INVALID_ARGUMENT, 'a frame arrived with no kind');
      return;
    }
    switch (kind.$case) {
      case 'hello':
        this.onHello(kind.hello);
        return;
      case 'ping':
        this.sendUnsequenced(0, { $case: 'pong', pong: { nonce: kind.ping.nonce } });
        return;
      case 'pong':
      case 'ack':
        return;
      default:
        break;
    }
    // Reliable frames carry consecutive sequence numbers.
    if (frame.seq !== 0) {
      if (frame.seq <= this.receiveSeq) return; // already seen (replayed)
      if (frame.seq !== this.receiveSeq + 1) {
        this.protocolError(frame.callId, Code.DATA_LOSS, `frame ${frame.seq} arrived out of order (expected ${this.receiveSeq + 1})`);
      }
      this.receiveSeq = frame.seq;
    }
    if (frame.callId === 0) {
      if (kind.$case === 'goAway') this.onGoAway(kind.goAway.reason);
      else if (kind.$case === 'close') {
        this.log.warn({ code: codeName(kind.close.code), peerMessage: kind.close.message }, 'the peer reported a session error');
      } else this.protocolError(0, Code.INVALID_ARGUMENT, `a ${kind.$case} frame arrived on the session (call id 0)`);
      return;
    }
    const mine = (frame.callId % 2 === 1) === (this.role === 'dialer');
    if (mine) this.onFrameForOutgoing(frame);
    else this.onFrameForIncoming(frame);
  }

  private onHello(hello: Hello): void {
    const major = hello.protocolVersion.split('.')[0];
    if (major !== MESH_PROTOCOL_VERSION.split('.')[0]) {
      this.protocolError(0, Code.FAILED_PRECONDITION, `the peer speaks mesh protocol ${hello.protocolVersion || '(none)'}, this side ${MESH_PROTOCOL_VERSION}`);
      this.close(new MeshError(Code.FAILED_PRECONDITION, `incompatible mesh protocol version ${hello.protocolVersion || '(none)'}`));
      return;
    }
    this.peerHello = hello;
    if (this.role === 'dialer') {
      this.sessionId = hello.sessionId;
    } else {
      this.sendHello();
    }
    for (const resolve of this.helloWaiters.splice(0)) resolve();
  }

  private sendHello(): void {
    this.sendUnsequenced(0, {
      $case: 'hello',
      hello: {
        peerId: this.identity,
        protocolVersion: MESH_PROTOCOL_VERSION,
        sessionId: this.sessionId,
        lastReceivedSeq: this.receiveSeq,
        initialWindow: this.limits.initialWindow,
        maxMessageBytes: this.limits.maxMessageBytes,
        resumed: false,
      },
    });
  }

  private onFrameForOutgoing(frame: Frame): void {
    const call = this.outgoing.get(frame.callId);
    const kind = frame.kind!;
    if (!call && kind.$case === 'close') {
      if (kind.close.code !== Code.OK) this.logPeerError(frame.callId, kind.close.code, kind.close.message);
      return; // never answer an error report with another
    }
    if (!call) {
      // A late frame for a call this side already finished or cancelled is normal; one for an id never used is not.
      if (frame.callId >= this.nextCallId) {
        this.protocolError(frame.callId, Code.NOT_FOUND, `a ${kind.$case} frame arrived for call ${frame.callId}, which this side never opened`);
      }
      return;
    }
    switch (kind.$case) {
      case 'headers':
        call.options.onHeaders?.(kind.headers.metadata);
        return;
      case 'message': {
        const payload = kind.message.payload;
        if (payload.length > this.limits.maxMessageBytes) {
          this.sendFrame(call.id, { $case: 'cancel', cancel: { reason: 'response over the size limit' } });
          this.failOutgoing(
            call.id,
            new MeshError(Code.RESOURCE_EXHAUSTED, `a response from ${call.path} is ${payload.length} bytes, over this side's limit of ${this.limits.maxMessageBytes} bytes`),
          );
          return;
        }
        let value: unknown;
        try {
          value = call.method.responseType.decode(payload);
        } catch (error) {
          this.sendFrame(call.id, { $case: 'cancel', cancel: { reason: 'undecodable response' } });
          this.failOutgoing(call.id, new MeshError(Code.INTERNAL, `a response from ${call.path} could not be decoded: ${(error as Error).message}`, { cause: error }));
          return;
        }
        call.responses++;
        if (call.streaming) call.sink.next(value);
        else if (call.responses > 1) {
          this.sendFrame(call.id, { $case: 'cancel', cancel: { reason: 'more than one response to a unary call' } });
          this.failOutgoing(call.id, new MeshError(Code.INTERNAL, `${call.path} sent more than one response to a unary call`));
        } else call.response = value;
        return;
      }
      case 'close': {
        this.outgoing.delete(call.id);
        call.cleanup();
        const close = kind.close;
        call.options.onTrailers?.(close.trailers);
        if (close.code === Code.OK) call.sink.complete();
        else call.sink.error(errorFromStatus({ code: close.code, message: close.message, details: close.details, metadata: close.trailers }));
        return;
      }
      case 'windowUpdate':
      case 'halfClose':
        return; // requests are a single message: no credit needed, nothing to half-close
      default:
        this.protocolError(call.id, Code.INVALID_ARGUMENT, `a ${kind.$case} frame is not valid from the side serving call ${call.id}`);
    }
  }

  private onFrameForIncoming(frame: Frame): void {
    const kind = frame.kind!;
    const id = frame.callId;
    if (kind.$case === 'open') {
      if (this.incoming.has(id) || id <= this.highestPeerCallId) {
        const existing = this.incoming.get(id);
        this.protocolError(id, Code.ALREADY_EXISTS, `call ${id} was opened twice; call ids must increase`);
        if (existing) this.endIncoming(existing, Code.ALREADY_EXISTS, 'call opened twice');
        return;
      }
      this.highestPeerCallId = id;
      this.onOpen(id, kind.open);
      return;
    }
    const call = this.incoming.get(id);
    if (kind.$case === 'close') {
      // The caller reports a protocol error about a call this side serves: stop serving it.
      this.logPeerError(id, kind.close.code, kind.close.message);
      if (call) this.dropIncoming(call, kind.close.code as Code, kind.close.message);
      return;
    }
    if (!call) {
      if (id > this.highestPeerCallId) {
        this.protocolError(id, Code.NOT_FOUND, `a ${kind.$case} frame arrived for call ${id}, which was never opened`);
      }
      return; // late frame for a call already ended
    }
    switch (kind.$case) {
      case 'message': {
        if (call.halfClosed || call.requestSeen) {
          this.protocolError(id, Code.FAILED_PRECONDITION, `call ${id} sent a second request message or one after half-close`);
          this.endIncoming(call, Code.FAILED_PRECONDITION, 'unexpected request message');
          return;
        }
        const payload = kind.message.payload;
        if (payload.length > this.limits.maxMessageBytes) {
          const text = `the request to ${call.registered.path} is ${payload.length} bytes, over the limit of ${this.limits.maxMessageBytes} bytes`;
          this.log.warn({ callId: id, bytes: payload.length, limit: this.limits.maxMessageBytes }, 'refused an oversize request');
          this.sendClose(id, Code.RESOURCE_EXHAUSTED, text);
          this.dropIncoming(call, Code.RESOURCE_EXHAUSTED, text);
          return;
        }
        try {
          call.request = call.registered.method.requestType.decode(payload);
          call.requestSeen = true;
        } catch (error) {
          const text = `the request to ${call.registered.path} could not be decoded: ${(error as Error).message}`;
          this.log.warn({ callId: id, err: error }, 'refused an undecodable request');
          this.sendClose(id, Code.INVALID_ARGUMENT, text);
          this.dropIncoming(call, Code.INVALID_ARGUMENT, text);
        }
        return;
      }
      case 'halfClose':
        call.halfClosed = true;
        if (!call.requestSeen) {
          this.sendClose(id, Code.INVALID_ARGUMENT, `call ${id} to ${call.registered.path} half-closed without a request message`);
          this.dropIncoming(call, Code.INVALID_ARGUMENT, 'no request');
          return;
        }
        this.runHandler(call);
        return;
      case 'cancel':
        call.server.ctx.log.debug({ reason: kind.cancel.reason }, 'the caller cancelled');
        this.dropIncoming(call, Code.CANCELLED, `the caller cancelled: ${kind.cancel.reason || 'no reason given'}`);
        return;
      case 'windowUpdate':
        call.credits += kind.windowUpdate.increment;
        if (call.credits > 0 && call.creditWaiter) {
          const wake = call.creditWaiter;
          call.creditWaiter = undefined;
          wake();
        }
        return;
      default:
        this.protocolError(id, Code.INVALID_ARGUMENT, `a ${kind.$case} frame is not valid from the caller of call ${id}`);
    }
  }

  private onOpen(id: number, open: { method: string; timeoutMs: number; metadata: Record<string, string>; idempotent: boolean }): void {
    if (this.closed) return;
    if (this.goingAway) {
      this.sendClose(id, Code.UNAVAILABLE, 'this session is draining (goaway); place the call on a new session');
      return;
    }
    if (this.incoming.size >= this.limits.maxConcurrentCalls) {
      this.log.warn({ callId: id, limit: this.limits.maxConcurrentCalls }, 'refused a call: too many concurrent calls');
      this.sendClose(id, Code.RESOURCE_EXHAUSTED, `this session already has ${this.limits.maxConcurrentCalls} calls in flight, the limit`);
      return;
    }
    const registered = this.registry?.lookup(open.method);
    if (!registered) {
      this.log.warn({ callId: id, method: open.method }, 'refused a call to an unknown method');
      this.sendClose(id, Code.UNIMPLEMENTED, `method ${open.method || '(empty)'} is not served by ${this.identity}`);
      return;
    }
    if (registered.method.requestStream) {
      this.sendClose(id, Code.UNIMPLEMENTED, `client-streaming method ${open.method} is not supported on the mesh`);
      return;
    }
    const server = createServerCall({
      method: open.method,
      callId: `${this.sessionId}/${id}`,
      metadata: open.metadata,
      deadline: open.timeoutMs > 0 ? Date.now() + open.timeoutMs : undefined,
      peer: this.peer,
      log: this.log,
      parentSignal: this.lifetime.signal,
    });
    const call: IncomingCall = {
      id,
      registered,
      server,
      requestSeen: false,
      halfClosed: false,
      started: false,
      credits: this.peerHello?.initialWindow || this.limits.initialWindow,
      headersSent: false,
    };
    this.incoming.set(id, call);
    server.ctx.signal.addEventListener(
      'abort',
      () => {
        // Deadline or session loss while the call is still registered: tell the caller and stop.
        if (!this.incoming.has(id)) return;
        const reason = server.ctx.signal.reason as MeshError;
        if (reason.code === Code.DEADLINE_EXCEEDED) this.sendClose(id, Code.DEADLINE_EXCEEDED, reason.rawMessage);
        this.dropIncoming(call, reason.code, reason.rawMessage);
      },
      { once: true },
    );
  }

  private runHandler(call: IncomingCall): void {
    if (call.started) return;
    call.started = true;
    this.stats.callsServed++;
    const { ctx } = call.server;
    let result: unknown;
    try {
      result = call.registered.handler(call.request, ctx);
    } catch (error) {
      this.failIncoming(call, error);
      return;
    }
    if (call.registered.method.responseStream) {
      void this.pump(call, result);
    } else {
      Promise.resolve(result).then(
        (response) => {
          if (!this.incoming.has(call.id)) return;
          if (this.sendResponse(call, response)) this.completeIncoming(call);
        },
        (error) => this.failIncoming(call, error),
      );
    }
  }

  private async pump(call: IncomingCall, result: unknown): Promise<void> {
    let iterator: AsyncIterator<unknown>;
    try {
      iterator = toAsyncIterable(result as AsyncIterable<unknown>, { maxBuffered: this.limits.maxBufferedItems })[Symbol.asyncIterator]();
    } catch (error) {
      this.failIncoming(call, error);
      return;
    }
    call.iterator = iterator;
    try {
      for (;;) {
        if (call.credits <= 0) await new Promise<void>((resolve) => (call.creditWaiter = resolve));
        if (!this.incoming.has(call.id)) return;
        await this.writer.writable();
        if (!this.incoming.has(call.id)) return;
        const next = await iterator.next();
        if (!this.incoming.has(call.id)) return;
        if (next.done) break;
        if (!this.sendResponse(call, next.value)) return;
        call.credits--;
      }
      this.completeIncoming(call);
    } catch (error) {
      this.failIncoming(call, error);
    }
  }

  /** Encodes and sends one response; false (and the call ended) when it cannot be sent. */
  private sendResponse(call: IncomingCall, response: unknown): boolean {
    let payload: Uint8Array;
    try {
      payload = call.registered.method.responseType.encode(response).finish();
    } catch (error) {
      this.failIncoming(call, new MeshError(Code.INTERNAL, 'the handler returned a response that could not be encoded', { cause: error }));
      return false;
    }
    const limit = this.peerHello?.maxMessageBytes || this.limits.maxMessageBytes;
    if (payload.length > limit) {
      call.server.ctx.log.warn({ bytes: payload.length, limit }, 'a response is over the caller\'s size limit');
      this.sendClose(call.id, Code.RESOURCE_EXHAUSTED, `a response of ${call.registered.path} is ${payload.length} bytes, over the caller's limit of ${limit} bytes`);
      this.dropIncoming(call, Code.RESOURCE_EXHAUSTED, 'response over the size limit');
      return false;
    }
    this.sendHeadersOnce(call);
    this.sendFrame(call.id, { $case: 'message', message: { payload: Buffer.from(payload.buffer, payload.byteOffset, payload.length) } });
    return true;
  }

  private sendHeadersOnce(call: IncomingCall): void {
    if (call.headersSent) return;
    call.headersSent = true;
    const headers = call.server.ctx.responseHeaders;
    if (Object.keys(headers).length > 0) this.sendFrame(call.id, { $case: 'headers', headers: { metadata: normalizeMetadata(headers) } });
  }

  private completeIncoming(call: IncomingCall): void {
    if (!this.incoming.has(call.id)) return;
    this.sendHeadersOnce(call);
    this.sendFrame(call.id, { $case: 'close', close: { code: Code.OK, message: '', details: [], trailers: normalizeMetadata(call.server.ctx.trailers) } });
    this.incoming.delete(call.id);
    call.server.finish();
  }

  private failIncoming(call: IncomingCall, error: unknown): void {
    if (!this.incoming.has(call.id)) return;
    const status = statusFromHandlerError(error, call.server.ctx.log);
    this.sendHeadersOnce(call);
    this.sendFrame(call.id, {
      $case: 'close',
      close: {
        code: status.code,
        message: status.message,
        details: status.details.map((d) => ({ type: d.type, value: Buffer.from(d.value) })),
        trailers: { ...normalizeMetadata(call.server.ctx.trailers), ...status.metadata },
      },
    });
    this.incoming.delete(call.id);
    call.server.finish();
    void call.iterator?.return?.();
  }

  /** Ends an incoming call with a status sent to the caller. */
  private endIncoming(call: IncomingCall, code: Code, message: string): void {
    this.sendClose(call.id, code, message);
    this.dropIncoming(call, code, message);
  }

  /** Forgets an incoming call and stops its handler, without telling the caller. */
  private dropIncoming(call: IncomingCall, code: Code, message: string): void {
    if (!this.incoming.delete(call.id)) return;
    call.server.abort(code, message);
    const wake = call.creditWaiter;
    call.creditWaiter = undefined;
    wake?.();
    void call.iterator?.return?.()?.catch?.(() => undefined);
  }

  // ---------------------------------------------------------------- session control

  private onGoAway(reason: string): void {
    this.goingAway = true;
    this.log.info({ reason }, 'the peer is draining this session');
  }

  /** Says goaway: the peer must place no new calls here. */
  goAway(reason: string, graceMs = 0): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.sendFrame(0, { $case: 'goAway', goAway: { lastCallId: this.highestPeerCallId, reason, graceMs } });
  }

  /** Ends the session: every call in flight fails with the given error (UNAVAILABLE by default). */
  close(error?: MeshError): void {
    if (this.closed) return;
    this.closed = true;
    const failure = error ?? new MeshError(Code.UNAVAILABLE, `the mesh session with ${this.peer.id} closed`);
    this.closedError = failure;
    this.writer.flush();
    this.writer.close();
    this.lifetime.abort(failure);
    for (const call of [...this.outgoing.values()]) this.failOutgoing(call.id, failure);
    for (const call of [...this.incoming.values()]) this.dropIncoming(call, Code.UNAVAILABLE, failure.rawMessage);
    for (const resolve of this.helloWaiters.splice(0)) resolve();
    try {
      this.channel.end();
    } catch {
      // the stream may already be gone
    }
    this.options.onClose?.(this, error);
  }

  /** The stream under the session ended or failed. */
  channelClosed(error?: unknown): void {
    if (this.closed) return;
    const reason = error ? ` (${(error as Error).message ?? String(error)})` : '';
    this.log.debug({ err: error }, 'the mesh stream ended');
    this.close(new MeshError(Code.UNAVAILABLE, `the connection to ${this.peer.id} was lost${reason}`, { cause: error }));
  }

  // ---------------------------------------------------------------- writing

  private sendFrame(callId: number, kind: NonNullable<Frame['kind']>): void {
    if (this.closed) return;
    this.writer.push({ callId, seq: ++this.sendSeq, kind });
  }

  private sendUnsequenced(callId: number, kind: NonNullable<Frame['kind']>): void {
    if (this.closed) return;
    this.writer.push({ callId, seq: 0, kind });
  }

  private sendClose(callId: number, code: Code, message: string): void {
    this.sendFrame(callId, { $case: 'close', close: { code, message, details: [], trailers: {} } });
  }

  private logPeerError(callId: number, code: number, message: string): void {
    this.log.warn({ callId, code: codeName(code), peerMessage: message }, 'the peer reported an error about a call');
  }

  private protocolError(callId: number, code: Code, message: string, cause?: unknown): void {
    this.stats.protocolErrors++;
    this.log.warn({ callId, code: codeName(code), err: cause }, `mesh protocol error: ${message}`);
    this.sendClose(callId, code, message);
  }
}
