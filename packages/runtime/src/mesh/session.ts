/**
 * One mesh session: the two ends of a long-lived bidirectional stream, with
 * every call between two peers multiplexed on it by call id. The session is
 * symmetric: either side may place calls and either may serve them; the side
 * that dialed allocates odd call ids and the side that accepted even ones, so
 * ids never collide.
 *
 * A session outlives the stream under it. Reliable frames carry per-direction
 * sequence numbers and stay in a bounded replay buffer until the peer acks
 * them; when the stream drops, the dialer reconnects with backoff and both
 * sides replay what the other has not seen, so calls in flight survive with
 * every frame delivered exactly once and in order.
 */
import type { Logger } from 'pino';
import { Code, MeshError, MESH_PROTOCOL_VERSION, codeName, type Frame, type FrameBatch, type Hello, type Open } from '@agentmesh/protocol';
import { createServerCall, errorFromStatus, statusFromHandlerError, toAsyncIterable, type ServerCall } from '../call-context';
import type { ServiceRegistry, RegisteredMethod } from '../service-registry';
import type { CallOptions, MethodDefinition, PeerInfo, StreamControl, StreamSink } from '../types';
import { resolveDeadline, normalizeMetadata } from '../client';
import { FrameWriter, frameBytes } from './frame-writer';
import { encodeMessage } from '../encode-message';
import { backoffDelay, defaultBackoff, systemClock, type BackoffOptions, type Clock } from './clock';

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
  /** Bytes of unacknowledged frames kept for resume; producers wait above it, and far above it resume is given up. */
  maxReplayBytes: number;
}

/** Default limits: generous enough for agents, bounded so nothing grows without limit. */
export const defaultSessionLimits: SessionLimits = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxConcurrentCalls: 10_000,
  initialWindow: 256,
  maxBufferedItems: 10_000,
  writeHighWaterBytes: 8 * 1024 * 1024,
  maxReplayBytes: 16 * 1024 * 1024,
};

/** Heartbeat settings: a peer silent for timeoutMs is declared lost. */
export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
}

/** Defaults: a ping every 500 ms, lost after 2.5 s of silence, so loss is detected within 3 s. */
export const defaultHeartbeat: HeartbeatOptions = { intervalMs: 500, timeoutMs: 2500 };

/** Resume settings. */
export interface ResumeOptions {
  /** How long a dropped session waits to be resumed before its calls fail UNAVAILABLE. */
  windowMs: number;
}

/** Defaults: ten seconds to come back. */
export const defaultResume: ResumeOptions = { windowMs: 10_000 };

/** The stream a session runs over at one time: one gRPC Connect stream. */
export interface FrameChannel {
  /** Writes one batch; false means wait for drain. */
  write(batch: FrameBatch): boolean;
  /** Ends the stream cleanly. */
  end(): void;
  /** Tears the stream down at once (a dead or replaced connection). */
  destroy(): void;
  /** The remote address, for logs and ctx.peer. */
  readonly remoteAddress: string;
}

/** Things that happen to a session, for metrics and tests. */
export type SessionEvent =
  | { type: 'lost'; reason: string }
  | { type: 'reconnecting'; attempt: number; delayMs: number }
  | { type: 'resumed'; replayedFrames: number; downtimeMs: number }
  | { type: 'resume-failed'; reason: string }
  | { type: 'goaway'; reason: string }
  | { type: 'rtt'; rttMs: number };

/** Options of a Session. */
export interface SessionOptions {
  role: 'dialer' | 'acceptor';
  identity: string;
  log: Logger;
  registry?: ServiceRegistry;
  limits?: Partial<SessionLimits>;
  /** Assigned by the acceptor; the dialer learns it from the peer's hello. */
  sessionId?: string;
  /** The acceptor's stream. */
  channel?: FrameChannel;
  /** The dialer's means of opening a stream, first and on every reconnect. */
  connect?: (session: Session) => FrameChannel;
  heartbeat?: Partial<HeartbeatOptions> | false;
  resume?: Partial<ResumeOptions> | false;
  backoff?: Partial<BackoffOptions>;
  clock?: Clock;
  /** Called once when the session has ended, for pools and servers. */
  onClose?(session: Session, error: MeshError | undefined): void;
  /** Called with each batch written, for metrics. */
  onBatch?(frames: number, bytes: number): void;
  onEvent?(session: Session, event: SessionEvent): void;
}

/** Counters of one session. */
export interface SessionStats {
  framesSent: number;
  framesReceived: number;
  batchesSent: number;
  batchesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  callsStarted: number;
  callsServed: number;
  protocolErrors: number;
  reconnects: number;
  resumes: number;
  framesReplayed: number;
  duplicateFramesDropped: number;
}

/** Metadata key marking an error as "the session was lost": idempotent calls may be retried. */
export const SESSION_LOST_KEY = 'agentmesh-session-lost';
/** Metadata key marking an error as "the call never reached a handler": any call may be retried. */
export const RETRY_SAFE_KEY = 'agentmesh-retry-safe';

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

type FrameKind = NonNullable<Frame['kind']>;

/** Longest delay a Node timer holds; a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The payload of a close that carries none. */
const EMPTY = Buffer.alloc(0);
/** Largest timeout the wire's uint32 carries; a longer one would wrap to a short one. */
const MAX_WIRE_TIMEOUT_MS = 2 ** 32 - 1;

/** A session: multiplexed calls over one stream at a time, resumable across streams. */
export class Session {
  readonly role: 'dialer' | 'acceptor';
  readonly identity: string;
  readonly stats: SessionStats = {
    framesSent: 0,
    framesReceived: 0,
    batchesSent: 0,
    batchesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    callsStarted: 0,
    callsServed: 0,
    protocolErrors: 0,
    reconnects: 0,
    resumes: 0,
    framesReplayed: 0,
    duplicateFramesDropped: 0,
  };
  readonly limits: SessionLimits;
  sessionId: string;
  /** The peer's hello, once it arrived. */
  peerHello: Hello | undefined;
  /** Round-trip time of the last ping, in milliseconds. */
  rttMs: number | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly heartbeat: HeartbeatOptions | undefined;
  private readonly resume: ResumeOptions | undefined;
  private readonly backoff: BackoffOptions;
  private readonly writer: FrameWriter;
  private readonly registry?: ServiceRegistry;
  private readonly outgoing = new Map<number, OutgoingCall>();
  private readonly incoming = new Map<number, IncomingCall>();
  private channel: FrameChannel | undefined;
  private remoteAddress = '';
  private nextCallId: number;
  private highestPeerCallId = 0;
  private sendSeq = 0;
  private receiveSeq = 0;
  private replay: Frame[] = [];
  private replayBytes = 0;
  private replayOverflowed = false;
  private unackedReceived = 0;
  private ackTimer: unknown;
  private heartbeatTimer: unknown;
  private resumeTimer: unknown;
  private helloTimer: unknown;
  private lastInbound = 0;
  private pingNonce = 0;
  private pingSentAt = new Map<number, number>();
  /** When the stream was lost; undefined while attached (0 is a valid time on an injected clock). */
  private lostAt: number | undefined;
  private reconnectAttempt = 0;
  private awaitingHello = false;
  private closedError: MeshError | undefined;
  private closed = false;
  /** Set as close() begins; calls failed by close() may be retried from their error callback, and must not land here. */
  private closing = false;
  private goingAway = false;
  private spaceWaiters: Array<() => void> = [];

  constructor(private readonly options: SessionOptions) {
    this.role = options.role;
    this.identity = options.identity;
    this.registry = options.registry;
    this.limits = { ...defaultSessionLimits, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.heartbeat = options.heartbeat === false ? undefined : { ...defaultHeartbeat, ...options.heartbeat };
    this.resume = options.resume === false ? undefined : { ...defaultResume, ...options.resume };
    this.backoff = { ...defaultBackoff, ...options.backoff };
    this.sessionId = options.sessionId ?? '';
    this.nextCallId = options.role === 'dialer' ? 1 : 2;
    this.log = options.log.child({ role: this.role });
    this.writer = new FrameWriter({
      write: (batch) => {
        const channel = this.channel;
        if (!channel) return true;
        this.stats.batchesSent++;
        this.stats.framesSent += batch.frames.length;
        return channel.write(batch);
      },
      onBatch: (frames, bytes) => {
        this.stats.bytesSent += bytes;
        options.onBatch?.(frames, bytes);
        this.wakeSpaceWaiters();
      },
    });
    if (options.channel) this.attach(options.channel);
    if (this.role === 'dialer') {
      if (!options.connect) throw new Error('a dialing session needs a connect function');
      this.attach(options.connect(this));
      this.sendHello();
    }
    this.scheduleHeartbeat();
  }

  /** True until the session has ended. */
  get isOpen(): boolean {
    return !this.closing;
  }

  /** True once goaway was said either way: no new calls may be placed here. */
  get isDraining(): boolean {
    return this.goingAway;
  }

  /** True while the stream is down and the session waits to be resumed. */
  get isDetached(): boolean {
    return !this.closed && this.channel === undefined;
  }

  /** Calls in flight, both directions. */
  get activeCalls(): number {
    return this.outgoing.size + this.incoming.size;
  }

  /** Bytes of frames kept for replay until the peer acknowledges them. */
  get replayBufferBytes(): number {
    return this.replayBytes;
  }

  /** The peer as handlers see it. */
  get peer(): PeerInfo {
    return { id: this.peerHello?.peerId || this.remoteAddress, address: this.remoteAddress, transport: 'mesh' };
  }

  /** The stream is writable again. */
  drained(channel: FrameChannel): void {
    if (channel === this.channel) this.writer.drained();
  }

  // ---------------------------------------------------------------- streams

  private attach(channel: FrameChannel): void {
    this.channel = channel;
    this.remoteAddress = channel.remoteAddress;
    this.lastInbound = this.clock.now();
    this.writer.reset();
  }

  /**
   * The acceptor side: a dialer reconnected and asked to resume this session.
   * Answers with its own hello and replays what the dialer has not seen;
   * false (and the session closed) when the frames it needs are gone.
   */
  resumeOn(channel: FrameChannel, hello: Hello): boolean {
    if (this.closed) return false;
    const old = this.channel;
    if (old) {
      this.channel = undefined;
      old.destroy();
    }
    const downtimeMs = this.lostAt !== undefined ? this.clock.now() - this.lostAt : 0;
    if (!this.canReplayFrom(hello.lastReceivedSeq)) {
      this.attach(channel);
      this.sendUnsequenced(0, { $case: 'hello', hello: this.helloBody(false, '') });
      this.writer.flush();
      this.close(this.sessionLost('the frames the peer missed are no longer in the replay buffer'));
      return false;
    }
    this.attach(channel);
    if (this.resumeTimer !== undefined) this.clock.clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    this.peerHello = hello;
    this.sendUnsequenced(0, { $case: 'hello', hello: this.helloBody(true, this.sessionId) });
    const replayed = this.replayFrom(hello.lastReceivedSeq);
    this.lostAt = undefined; // the next loss starts its own downtime, as on the dialer
    this.stats.resumes++;
    this.log.info({ session: this.sessionId, replayed, downtimeMs }, 'session resumed');
    this.options.onEvent?.(this, { type: 'resumed', replayedFrames: replayed, downtimeMs });
    return true;
  }

  /** The stream under the session ended or failed. */
  channelLost(channel: FrameChannel, error?: unknown): void {
    if (this.closed || channel !== this.channel) return;
    this.channel = undefined;
    this.writer.reset();
    if (this.helloTimer !== undefined) this.clock.clearTimeout(this.helloTimer);
    const reason = error ? ((error as Error).message ?? String(error)) : 'the stream ended';
    const established = this.role === 'acceptor' || this.sessionId !== '';
    if (!this.resume || !established || this.goingAway && this.activeCalls === 0) {
      this.close(new MeshError(Code.UNAVAILABLE, `the connection to ${this.peer.id} was lost (${reason})`, { cause: error, metadata: { [SESSION_LOST_KEY]: 'true' } }));
      return;
    }
    if (this.replayOverflowed) {
      this.close(this.sessionLost(`the connection was lost (${reason}) and the replay buffer had overflowed, so the session cannot resume`));
      return;
    }
    if (this.lostAt === undefined) this.lostAt = this.clock.now();
    this.log.info({ session: this.sessionId, reason }, 'mesh stream lost; waiting to resume');
    this.options.onEvent?.(this, { type: 'lost', reason });
    if (this.role === 'dialer') this.scheduleReconnect();
    else if (this.resumeTimer === undefined) {
      this.resumeTimer = this.clock.setTimeout(() => {
        this.resumeTimer = undefined;
        if (this.channel === undefined) this.close(this.sessionLost(`the peer did not resume within ${this.resume!.windowMs} ms`));
      }, this.resume.windowMs);
    }
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const elapsed = this.clock.now() - (this.lostAt ?? this.clock.now());
    if (elapsed >= this.resume!.windowMs) {
      this.close(this.sessionLost(`could not reconnect to ${this.peer.id} within ${this.resume!.windowMs} ms`));
      return;
    }
    const delayMs = backoffDelay(this.reconnectAttempt++, this.backoff, () => this.clock.random());
    this.options.onEvent?.(this, { type: 'reconnecting', attempt: this.reconnectAttempt, delayMs });
    this.clock.setTimeout(() => {
      if (this.closed || this.channel) return;
      this.stats.reconnects++;
      let channel: FrameChannel;
      try {
        channel = this.options.connect!(this);
      } catch (error) {
        this.log.debug({ err: error }, 'reconnect attempt failed');
        this.scheduleReconnect();
        return;
      }
      this.attach(channel);
      this.awaitingHello = true;
      this.sendHello();
      const helloTimeout = this.heartbeat?.timeoutMs ?? 2500;
      this.helloTimer = this.clock.setTimeout(() => {
        this.helloTimer = undefined;
        if (this.awaitingHello && this.channel === channel) {
          channel.destroy();
          this.channelLost(channel, new Error(`no hello within ${helloTimeout} ms`));
        }
      }, helloTimeout);
    }, delayMs);
  }

  private sessionLost(message: string): MeshError {
    return new MeshError(Code.UNAVAILABLE, message, { metadata: { [SESSION_LOST_KEY]: 'true' } });
  }

  private canReplayFrom(peerReceived: number): boolean {
    if (peerReceived >= this.sendSeq) return true;
    return this.replay.length > 0 && this.replay[0].seq <= peerReceived + 1;
  }

  private replayFrom(peerReceived: number): number {
    this.trimReplay(peerReceived);
    for (const frame of this.replay) this.writer.push(frame);
    this.stats.framesReplayed += this.replay.length;
    return this.replay.length;
  }

  private trimReplay(acked: number): void {
    let drop = 0;
    let bytes = 0;
    while (drop < this.replay.length && this.replay[drop].seq <= acked) bytes += frameBytes(this.replay[drop++]);
    if (drop > 0) {
      this.replay.splice(0, drop);
      this.replayBytes -= bytes;
      this.wakeSpaceWaiters();
    }
  }

  // ---------------------------------------------------------------- heartbeats

  private scheduleHeartbeat(): void {
    if (!this.heartbeat || this.closed) return;
    this.heartbeatTimer = this.clock.setTimeout(() => this.beat(), this.heartbeat.intervalMs);
  }

  private beat(): void {
    if (this.closed || !this.heartbeat) return;
    const channel = this.channel;
    if (channel && !this.awaitingHello) {
      const silentMs = this.clock.now() - this.lastInbound;
      if (silentMs > this.heartbeat.timeoutMs) {
        this.log.warn({ session: this.sessionId, silentMs }, 'peer missed its heartbeats; declaring the stream lost');
        channel.destroy();
        this.channelLost(channel, new Error(`no frames from the peer for ${silentMs} ms`));
      } else {
        const nonce = ++this.pingNonce;
        this.pingSentAt.set(nonce, this.clock.precise?.() ?? this.clock.now());
        if (this.pingSentAt.size > 16) this.pingSentAt.delete(this.pingSentAt.keys().next().value as number);
        this.sendUnsequenced(0, { $case: 'ping', ping: { nonce } });
      }
    }
    this.scheduleHeartbeat();
  }

  // ---------------------------------------------------------------- calls out

  /** Places a unary call on this session. */
  unary<Req, Res>(path: string, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.startCall(path, method, request, options, false, { next: () => undefined, error: reject, complete: () => undefined }, resolve as (value: unknown) => void);
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
    if (this.closing) {
      // The call never left this side, so it is safe to place again whatever its idempotency.
      const why = this.closedError;
      sink.error(
        why
          ? new MeshError(why.code, why.rawMessage, { metadata: { ...why.metadata, [RETRY_SAFE_KEY]: 'true' } })
          : new MeshError(Code.UNAVAILABLE, 'the mesh session is closed', { metadata: { [RETRY_SAFE_KEY]: 'true' } }),
      );
      return noop;
    }
    if (this.goingAway) {
      sink.error(new MeshError(Code.UNAVAILABLE, 'the peer is draining this session (goaway); place the call on a new session', { metadata: { [RETRY_SAFE_KEY]: 'true' } }));
      return noop;
    }
    if (options.signal?.aborted) {
      sink.error(options.signal.reason);
      return noop;
    }
    let payload: Buffer;
    try {
      payload = encodeMessage(method.requestType, request);
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
    let timer: unknown;
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
        if (timer !== undefined) this.clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      },
    };
    this.outgoing.set(id, call);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let timeoutMs = 0;
    if (deadline !== undefined) {
      timeoutMs = Math.max(1, deadline - this.clock.now());
      // A deadline further off than a timer can hold is waited for in steps, not fired at once.
      const arm = (ms: number) => {
        timer = this.clock.setTimeout(() => {
          if (!this.outgoing.has(id)) return;
          const left = deadline - this.clock.now();
          if (left > 0 && ms === MAX_TIMER_MS) return arm(Math.min(left, MAX_TIMER_MS));
          this.sendFrame(id, { $case: 'cancel', cancel: { reason: 'deadline exceeded' } });
          this.failOutgoing(id, new MeshError(Code.DEADLINE_EXCEEDED, `${path} did not finish within ${timeoutMs} ms`));
        }, ms);
      };
      arm(Math.min(timeoutMs, MAX_TIMER_MS));
    }
    // The compact form: the one request message and the half-close ride in the open frame.
    this.sendFrame(id, {
      $case: 'open',
      open: {
        method: path,
        timeoutMs: Math.min(timeoutMs, MAX_WIRE_TIMEOUT_MS),
        metadata: normalizeMetadata(options.metadata),
        idempotent: options.idempotent ?? false,
        payload,
        hasPayload: true,
        halfClose: true,
      },
    });
    return {
      cancel: () => {
        const c = this.outgoing.get(id);
        if (!c) return;
        this.sendFrame(id, { $case: 'cancel', cancel: { reason: 'the caller cancelled' } });
        this.outgoing.delete(id);
        c.cleanup();
        this.maybeFinishDrain();
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
    this.maybeFinishDrain();
  }

  // ---------------------------------------------------------------- receiving

  /** Handles one batch from the peer. Never throws: a bad frame gets an error frame and a log line. */
  receive(batch: FrameBatch, channel: FrameChannel, bytes = 0): void {
    if (channel !== this.channel || this.closed) return; // a replaced stream's late data
    this.lastInbound = this.clock.now();
    this.stats.batchesReceived++;
    this.stats.bytesReceived += bytes;
    for (const frame of batch.frames) {
      this.stats.framesReceived++;
      try {
        this.receiveFrame(frame);
      } catch (error) {
        this.protocolError(frame.callId, Code.INTERNAL, `the frame could not be handled: ${(error as Error).message}`, error);
        // The error report makes the peer stop serving the call; a call this side placed must end here too, or it
        // would wait for a close that never comes (a caller's onHeaders callback that throws, say).
        if (frame.callId !== 0 && this.outgoing.has(frame.callId)) {
          this.failOutgoing(frame.callId, new MeshError(Code.INTERNAL, `a frame of the call could not be handled: ${(error as Error).message}`, { cause: error }));
        }
      }
      if (this.closed) return;
    }
    this.scheduleAck();
  }

  /** Reports a batch that could not be decoded; the session goes on. */
  receiveUndecodable(error: unknown, channel: FrameChannel): void {
    if (channel !== this.channel) return;
    this.lastInbound = this.clock.now();
    this.protocolError(0, Code.INVALID_ARGUMENT, `a frame batch could not be decoded: ${(error as Error).message}`, error);
  }

  private scheduleAck(): void {
    // Acks go out whether or not this side resumes: a peer that does keeps every frame until it is acked, and
    // its producers wait once that buffer is full, so a silent receiver would stall its streams for good.
    if (this.unackedReceived === 0) return;
    if (this.unackedReceived >= 64) {
      this.sendAck();
      return;
    }
    if (this.ackTimer === undefined) this.ackTimer = this.clock.setTimeout(() => this.sendAck(), 20);
  }

  private sendAck(): void {
    if (this.ackTimer !== undefined) this.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.unackedReceived === 0 || !this.channel) return;
    this.unackedReceived = 0;
    this.sendUnsequenced(0, { $case: 'ack', ack: { seq: this.receiveSeq } });
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
      case 'pong': {
        const sentAt = this.pingSentAt.get(kind.pong.nonce);
        if (sentAt !== undefined) {
          this.pingSentAt.delete(kind.pong.nonce);
          this.rttMs = (this.clock.precise?.() ?? this.clock.now()) - sentAt;
          this.options.onEvent?.(this, { type: 'rtt', rttMs: this.rttMs });
        }
        return;
      }
      case 'ack':
        this.trimReplay(kind.ack.seq);
        return;
      default:
        break;
    }
    // Reliable frames carry consecutive sequence numbers.
    if (frame.seq !== 0) {
      if (frame.seq <= this.receiveSeq) {
        this.stats.duplicateFramesDropped++;
        return; // already delivered (replayed after a resume)
      }
      if (frame.seq !== this.receiveSeq + 1) {
        this.protocolError(frame.callId, Code.DATA_LOSS, `frame ${frame.seq} arrived out of order (expected ${this.receiveSeq + 1})`);
      }
      this.receiveSeq = frame.seq;
      this.unackedReceived++;
    }
    if (frame.callId === 0) {
      if (kind.$case === 'goAway') this.onGoAway(kind.goAway.reason);
      else if (kind.$case === 'close' && this.role === 'dialer' && !this.peerHello) {
        // Refused before its hello, the peer served none of this session's frames: every call is safe to place again.
        this.close(new MeshError(kind.close.code as Code, `the peer refused the session: ${kind.close.message}`, { metadata: { [RETRY_SAFE_KEY]: 'true' } }));
      } else if (kind.$case === 'close') {
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
    if (this.role === 'acceptor') {
      // A new session's first hello; resumes are routed to resumeOn() by the server.
      this.peerHello = hello;
      this.sendUnsequenced(0, { $case: 'hello', hello: this.helloBody(false, this.sessionId) });
    } else if (this.awaitingHello) {
      this.awaitingHello = false;
      if (this.helloTimer !== undefined) this.clock.clearTimeout(this.helloTimer);
      this.helloTimer = undefined;
      if (!hello.resumed || hello.sessionId !== this.sessionId || !this.canReplayFrom(hello.lastReceivedSeq)) {
        const reason = `could not resume session ${this.sessionId}: the peer no longer has it (it restarted, or the resume window or its replay buffer ran out)`;
        this.options.onEvent?.(this, { type: 'resume-failed', reason });
        this.close(this.sessionLost(reason));
        return;
      }
      const downtimeMs = this.clock.now() - (this.lostAt ?? this.clock.now());
      this.peerHello = hello;
      const replayed = this.replayFrom(hello.lastReceivedSeq);
      this.stats.resumes++;
      this.lostAt = undefined;
      this.reconnectAttempt = 0;
      this.log.info({ session: this.sessionId, replayed, downtimeMs }, 'session resumed');
      this.options.onEvent?.(this, { type: 'resumed', replayedFrames: replayed, downtimeMs });
    } else {
      this.peerHello = hello;
      this.sessionId = hello.sessionId;
    }
  }

  private helloBody(resumed: boolean, sessionId: string): Hello {
    return {
      peerId: this.identity,
      protocolVersion: MESH_PROTOCOL_VERSION,
      sessionId,
      lastReceivedSeq: this.receiveSeq,
      initialWindow: this.limits.initialWindow,
      maxMessageBytes: this.limits.maxMessageBytes,
      resumed,
    };
  }

  private sendHello(): void {
    this.sendUnsequenced(0, { $case: 'hello', hello: this.helloBody(false, this.sessionId) });
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
      case 'message':
        this.acceptResponse(call, kind.message.payload);
        return;
      case 'close': {
        const close = kind.close;
        if (close.hasPayload && close.code === Code.OK && !this.acceptResponse(call, close.payload)) return;
        this.outgoing.delete(call.id);
        call.cleanup();
        try {
          call.options.onTrailers?.(close.trailers);
        } catch (error) {
          // The call is already out of the map: settle it anyway rather than leave the caller waiting for ever.
          this.log.warn({ callId: call.id, err: error }, "the caller's onTrailers callback threw");
        }
        if (close.code === Code.OK) call.sink.complete();
        else call.sink.error(errorFromStatus({ code: close.code, message: close.message, details: close.details, metadata: close.trailers }));
        this.maybeFinishDrain();
        return;
      }
      case 'windowUpdate':
      case 'halfClose':
        return; // requests are a single message: no credit needed, nothing to half-close
      default:
        this.protocolError(call.id, Code.INVALID_ARGUMENT, `a ${kind.$case} frame is not valid from the side serving call ${call.id}`);
    }
  }

  /** Decodes and delivers one response (from a message frame or a compact close); false when it ended the call. */
  private acceptResponse(call: OutgoingCall, payload: Uint8Array): boolean {
    {
      {
        if (payload.length > this.limits.maxMessageBytes) {
          this.sendFrame(call.id, { $case: 'cancel', cancel: { reason: 'response over the size limit' } });
          this.failOutgoing(
            call.id,
            new MeshError(Code.RESOURCE_EXHAUSTED, `a response from ${call.path} is ${payload.length} bytes, over this side's limit of ${this.limits.maxMessageBytes} bytes`),
          );
          return false;
        }
        let value: unknown;
        try {
          value = call.method.responseType.decode(payload);
        } catch (error) {
          this.sendFrame(call.id, { $case: 'cancel', cancel: { reason: 'undecodable response' } });
          this.failOutgoing(call.id, new MeshError(Code.INTERNAL, `a response from ${call.path} could not be decoded: ${(error as Error).message}`, { cause: error }));
          return false;
        }
        call.responses++;
        if (call.streaming) call.sink.next(value);
        else if (call.responses > 1) {
          this.sendFrame(call.id, { $case: 'cancel', cancel: { reason: 'more than one response to a unary call' } });
          this.failOutgoing(call.id, new MeshError(Code.INTERNAL, `${call.path} sent more than one response to a unary call`));
          return false;
        } else call.response = value;
        return true;
      }
    }
  }

  private onFrameForIncoming(frame: Frame): void {
    const kind = frame.kind!;
    const id = frame.callId;
    if (kind.$case === 'open') {
      if (this.incoming.has(id) || id <= this.highestPeerCallId) {
        const existing = this.incoming.get(id);
        this.protocolError(id, Code.ALREADY_EXISTS, `call ${id} was opened twice; call ids must increase`);
        if (existing) this.dropIncoming(existing, Code.ALREADY_EXISTS, 'call opened twice');
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
      case 'message':
        this.acceptRequest(call, kind.message.payload);
        return;
      case 'halfClose':
        this.acceptHalfClose(call);
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

  /** Takes the one request message of a call (from a message frame or a compact open); false when it ended the call. */
  private acceptRequest(call: IncomingCall, payload: Uint8Array): boolean {
    const id = call.id;
    if (call.halfClosed || call.requestSeen) {
      this.protocolError(id, Code.FAILED_PRECONDITION, `call ${id} sent a second request message or one after half-close`);
      this.dropIncoming(call, Code.FAILED_PRECONDITION, 'unexpected request message');
      return false;
    }
    if (payload.length > this.limits.maxMessageBytes) {
      const text = `the request to ${call.registered.path} is ${payload.length} bytes, over the limit of ${this.limits.maxMessageBytes} bytes`;
      this.log.warn({ callId: id, bytes: payload.length, limit: this.limits.maxMessageBytes }, 'refused an oversize request');
      this.sendClose(id, Code.RESOURCE_EXHAUSTED, text);
      this.dropIncoming(call, Code.RESOURCE_EXHAUSTED, text);
      return false;
    }
    try {
      call.request = call.registered.method.requestType.decode(payload);
      call.requestSeen = true;
      return true;
    } catch (error) {
      const text = `the request to ${call.registered.path} could not be decoded: ${(error as Error).message}`;
      this.log.warn({ callId: id, err: error }, 'refused an undecodable request');
      this.sendClose(id, Code.INVALID_ARGUMENT, text);
      this.dropIncoming(call, Code.INVALID_ARGUMENT, text);
      return false;
    }
  }

  /** The caller has sent its request: run the handler, or refuse a call that sent none. */
  private acceptHalfClose(call: IncomingCall): void {
    call.halfClosed = true;
    if (!call.requestSeen) {
      this.sendClose(call.id, Code.INVALID_ARGUMENT, `call ${call.id} to ${call.registered.path} half-closed without a request message`);
      this.dropIncoming(call, Code.INVALID_ARGUMENT, 'no request');
      return;
    }
    this.runHandler(call);
  }

  private onOpen(id: number, open: Open): void {
    if (this.goingAway) {
      this.sendClose(id, Code.UNAVAILABLE, 'this session is draining (goaway); place the call on a new session', { [RETRY_SAFE_KEY]: 'true' });
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
      // A timeout beyond what a timer holds would fire at once in createServerCall; leave such a far deadline to
      // the caller, which enforces its own.
      deadline: open.timeoutMs > 0 && open.timeoutMs <= MAX_TIMER_MS ? Date.now() + open.timeoutMs : undefined,
      peer: this.peer,
      log: this.log,
      // Deadline while the call is still registered: tell the caller and stop. (Session loss is handled by close().)
      onAbort: (reason) => {
        const call = this.incoming.get(id);
        if (!call) return;
        if (reason.code === Code.DEADLINE_EXCEEDED) this.sendClose(id, Code.DEADLINE_EXCEEDED, reason.rawMessage);
        this.dropIncoming(call, reason.code, reason.rawMessage);
      },
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
    // The compact form: the request and the half-close came inside the open.
    if (open.hasPayload && !this.acceptRequest(call, open.payload)) return;
    if (open.halfClose) this.acceptHalfClose(call);
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
          const payload = this.encodeResponse(call, response);
          if (payload) this.completeIncoming(call, payload);
        },
        (error) => this.failIncoming(call, error),
      );
    }
  }

  /** Resolves when there is room to write: the write queue and the replay buffer are under their bounds. */
  private async hasSpace(): Promise<void> {
    while (
      !this.closed &&
      (this.writer.pendingBytes >= this.limits.writeHighWaterBytes || (this.resume !== undefined && this.replayBytes >= this.limits.maxReplayBytes))
    ) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  private wakeSpaceWaiters(): void {
    if (this.spaceWaiters.length === 0) return;
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const resolve of waiters) resolve();
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
        await this.hasSpace();
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

  /** Encodes one response within the caller's size limit; undefined (and the call ended) when it cannot be sent. */
  private encodeResponse(call: IncomingCall, response: unknown): Buffer | undefined {
    let payload: Buffer;
    try {
      payload = encodeMessage(call.registered.method.responseType, response);
    } catch (error) {
      this.failIncoming(call, new MeshError(Code.INTERNAL, 'the handler returned a response that could not be encoded', { cause: error }));
      return undefined;
    }
    const limit = this.peerHello?.maxMessageBytes || this.limits.maxMessageBytes;
    if (payload.length > limit) {
      call.server.ctx.log.warn({ bytes: payload.length, limit }, "a response is over the caller's size limit");
      this.sendClose(call.id, Code.RESOURCE_EXHAUSTED, `a response of ${call.registered.path} is ${payload.length} bytes, over the caller's limit of ${limit} bytes`);
      this.dropIncoming(call, Code.RESOURCE_EXHAUSTED, 'response over the size limit');
      return undefined;
    }
    return payload;
  }

  /** Encodes and sends one streamed response; false (and the call ended) when it cannot be sent. */
  private sendResponse(call: IncomingCall, response: unknown): boolean {
    const payload = this.encodeResponse(call, response);
    if (!payload) return false;
    this.sendHeadersOnce(call);
    this.sendFrame(call.id, { $case: 'message', message: { payload } });
    return true;
  }

  private sendHeadersOnce(call: IncomingCall): void {
    if (call.headersSent) return;
    call.headersSent = true;
    const headers = call.server.ctx.responseHeaders;
    if (Object.keys(headers).length > 0) this.sendFrame(call.id, { $case: 'headers', headers: { metadata: normalizeMetadata(headers) } });
  }

  /** Ends a call with OK; a unary response rides in the close (the compact form). */
  private completeIncoming(call: IncomingCall, payload?: Buffer): void {
    if (!this.incoming.has(call.id)) return;
    this.sendHeadersOnce(call);
    this.sendFrame(call.id, {
      $case: 'close',
      close: {
        code: Code.OK,
        message: '',
        details: [],
        trailers: normalizeMetadata(call.server.ctx.trailers),
        payload: payload ?? EMPTY,
        hasPayload: payload !== undefined,
      },
    });
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
        payload: EMPTY,
        hasPayload: false,
      },
    });
    this.incoming.delete(call.id);
    call.server.finish();
    void call.iterator?.return?.()?.catch?.(() => undefined);
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
    this.log.info({ session: this.sessionId, reason }, 'the peer is draining this session');
    this.options.onEvent?.(this, { type: 'goaway', reason });
    this.maybeFinishDrain();
  }

  /** A dialer whose peer said goaway closes the session once its own calls are done. */
  private maybeFinishDrain(): void {
    if (this.goingAway && this.role === 'dialer' && this.outgoing.size === 0 && !this.closed) {
      setImmediate(() => {
        if (this.outgoing.size === 0) this.close();
      });
    }
  }

  /** Says goaway: the peer must place no new calls here; calls in flight go on. */
  goAway(reason: string, graceMs = 0): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.sendFrame(0, { $case: 'goAway', goAway: { lastCallId: this.highestPeerCallId, reason, graceMs } });
  }

  /** Ends the session: every call in flight fails with the given error (UNAVAILABLE by default). */
  close(error?: MeshError): void {
    if (this.closing) return;
    this.closing = true;
    const failure = error ?? new MeshError(Code.UNAVAILABLE, `the mesh session with ${this.peer.id} closed`, { metadata: { [SESSION_LOST_KEY]: 'true' } });
    this.closedError = failure;
    // Tell the peer, while the stream is still there: calls this side serves end with the failure, calls it placed
    // are cancelled, and goaway says not to resume.
    for (const call of [...this.incoming.values()]) {
      this.sendClose(call.id, Code.UNAVAILABLE, failure.rawMessage, { [SESSION_LOST_KEY]: 'true' });
      this.dropIncoming(call, Code.UNAVAILABLE, failure.rawMessage);
    }
    for (const call of [...this.outgoing.values()]) {
      this.sendFrame(call.id, { $case: 'cancel', cancel: { reason: 'the session is closing' } });
      this.failOutgoing(call.id, failure);
    }
    if (!this.goingAway) {
      this.goingAway = true;
      this.sendFrame(0, { $case: 'goAway', goAway: { lastCallId: this.highestPeerCallId, reason: 'closing', graceMs: 0 } });
    }
    this.closed = true;
    for (const timer of [this.ackTimer, this.heartbeatTimer, this.resumeTimer, this.helloTimer]) if (timer !== undefined) this.clock.clearTimeout(timer);
    this.writer.flush();
    this.writer.close();
    this.replay = [];
    this.replayBytes = 0;
    this.wakeSpaceWaiters();
    const channel = this.channel;
    this.channel = undefined;
    try {
      channel?.end();
    } catch {
      // the stream may already be gone
    }
    this.options.onClose?.(this, error);
  }

  // ---------------------------------------------------------------- writing

  private sendFrame(callId: number, kind: FrameKind): void {
    if (this.closed) return;
    const frame: Frame = { callId, seq: ++this.sendSeq, kind };
    if (this.resume) {
      this.replay.push(frame);
      this.replayBytes += frameBytes(frame);
      if (this.replayBytes > this.limits.maxReplayBytes * 2 && !this.replayOverflowed) {
        // Producers wait at maxReplayBytes; only unary responses can push past it. Far past it, give up on resume
        // rather than hold unbounded memory.
        this.replayOverflowed = true;
        this.replay = [];
        this.replayBytes = 0;
        this.log.warn({ session: this.sessionId, limit: this.limits.maxReplayBytes }, 'replay buffer overflowed; this session can no longer resume');
      }
      if (this.replayOverflowed) {
        this.replay = [];
        this.replayBytes = 0;
      }
    }
    // While a reconnected dialer awaits the peer's hello, sequenced frames stay in the replay buffer only: the
    // replay that follows the hello sends them in order. Written now, they would overtake the frames the peer
    // missed, read as a sequence gap, and make the peer drop the replayed frames as duplicates.
    if (this.channel && !this.awaitingHello) this.writer.push(frame);
  }

  private sendUnsequenced(callId: number, kind: FrameKind): void {
    if (this.closed || !this.channel) return;
    this.writer.push({ callId, seq: 0, kind });
  }

  private sendClose(callId: number, code: Code, message: string, trailers: Record<string, string> = {}): void {
    this.sendFrame(callId, { $case: 'close', close: { code, message, details: [], trailers, payload: EMPTY, hasPayload: false } });
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
