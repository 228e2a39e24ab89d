/**
 * Heartbeat, backoff and resume-window logic on an injected clock: no sockets,
 * no waiting, the same result every run.
 */
import pino from 'pino';
import { Code, MeshError, type FrameBatch } from '@agentmesh/protocol';
import { Session, backoffDelay, defaultBackoff, type Clock, type FrameChannel, type SessionEvent } from '@agentmesh/runtime';

/** A clock whose time moves only when the test says so. */
function manualClock(random = 0.5) {
  let now = 0;
  let timers: Array<{ at: number; callback: () => void }> = [];
  const clock: Clock & { advance(ms: number): void } = {
    now: () => now,
    setTimeout: (callback, ms) => {
      const timer = { at: now + ms, callback };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      timers = timers.filter((t) => t !== handle);
    },
    random: () => random,
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.callback();
      }
      now = until;
    },
  };
  return clock;
}

/** A channel that records what the session writes. */
function fakeChannel(name = 'fake') {
  const written: FrameBatch[] = [];
  let destroyed = false;
  const channel: FrameChannel & { written: FrameBatch[]; destroyed: () => boolean } = {
    write: (batch) => {
      written.push(batch);
      return true;
    },
    end: () => undefined,
    destroy: () => {
      destroyed = true;
    },
    remoteAddress: name,
    written,
    destroyed: () => destroyed,
  };
  return channel;
}

const log = pino({ level: 'silent' });
const flush = () => new Promise((resolve) => setImmediate(resolve));
const kinds = (channel: { written: FrameBatch[] }) => channel.written.flatMap((b) => b.frames.map((f) => f.kind?.$case));

describe('backoff', () => {
  test('exponential from 20 ms, capped at 1 s, jittered ±20%', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, defaultBackoff, () => 0.5))).toEqual([20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(backoffDelay(3, defaultBackoff, () => 0)).toBe(128);
    expect(backoffDelay(3, defaultBackoff, () => 0.999999)).toBe(192);
  });
});

describe('heartbeats', () => {
  test('a ping every interval; a pong gives the round trip', async () => {
    const clock = manualClock();
    const channel = fakeChannel();
    const events: SessionEvent[] = [];
    const session = new Session({ role: 'acceptor', identity: 'a', sessionId: 's1', log, channel, clock, heartbeat: { intervalMs: 100, timeoutMs: 300 }, onEvent: (_s, e) => events.push(e) });
    clock.advance(100);
    await flush();
    const ping = channel.written.flatMap((b) => b.frames).find((f) => f.kind?.$case === 'ping');
    expect(ping).toBeDefined();
    clock.advance(40);
    session.receive({ frames: [{ callId: 0, seq: 0, kind: { $case: 'pong', pong: { nonce: (ping!.kind as { ping: { nonce: number } }).ping.nonce } } }] }, channel);
    expect(session.rttMs).toBe(40);
    expect(events).toContainEqual({ type: 'rtt', rttMs: 40 });
    session.close();
  });

  test('a silent peer is declared lost on the first heartbeat after the timeout', async () => {
    const clock = manualClock();
    const channel = fakeChannel();
    let lostAt = -1;
    const session = new Session({
      role: 'acceptor',
      identity: 'a',
      sessionId: 's2',
      log,
      channel,
      clock,
      heartbeat: { intervalMs: 100, timeoutMs: 300 },
      resume: { windowMs: 1000 },
      onEvent: (_s, e) => e.type === 'lost' && (lostAt = clock.now()),
    });
    clock.advance(300);
    expect(lostAt).toBe(-1);
    clock.advance(100);
    expect(lostAt).toBe(400);
    expect(channel.destroyed()).toBe(true);
    expect(session.isDetached).toBe(true);
    // Nobody resumes it: the resume window closes the session.
    clock.advance(999);
    expect(session.isOpen).toBe(true);
    clock.advance(1);
    expect(session.isOpen).toBe(false);
  });

  test('traffic of any kind keeps a session alive', () => {
    const clock = manualClock();
    const channel = fakeChannel();
    let lost = false;
    const session = new Session({ role: 'acceptor', identity: 'a', sessionId: 's3', log, channel, clock, heartbeat: { intervalMs: 100, timeoutMs: 300 }, onEvent: (_s, e) => e.type === 'lost' && (lost = true) });
    for (let i = 0; i < 20; i++) {
      clock.advance(250);
      session.receive({ frames: [{ callId: 0, seq: 0, kind: { $case: 'ping', ping: { nonce: i } } }] }, channel);
    }
    expect(lost).toBe(false);
    session.close();
  });
});

describe('reconnect within the resume window', () => {
  test('the dialer retries with backoff and fails its calls UNAVAILABLE when the window runs out', async () => {
    const clock = manualClock();
    const channels: ReturnType<typeof fakeChannel>[] = [];
    const events: SessionEvent[] = [];
    const session = new Session({
      role: 'dialer',
      identity: 'd',
      log,
      clock,
      heartbeat: { intervalMs: 100, timeoutMs: 300 },
      resume: { windowMs: 2000 },
      connect: () => {
        const channel = fakeChannel(`attempt-${channels.length}`);
        channels.push(channel);
        return channel;
      },
      onEvent: (_s, e) => events.push(e),
    });
    // The acceptor answers the first hello, so the session is established.
    session.receive({ frames: [{ callId: 0, seq: 0, kind: { $case: 'hello', hello: { peerId: 'acc', protocolVersion: '1.0', sessionId: 'sid', lastReceivedSeq: 0, initialWindow: 16, maxMessageBytes: 1 << 20, resumed: false } } }] }, channels[0]!);
    const call = session.unary('/x.Y/Z', { name: 'Z', requestType: { encode: () => ({ finish: () => new Uint8Array() }), decode: () => ({}), fromJSON: () => ({}), toJSON: () => ({}), fromPartial: () => ({}) }, responseType: { encode: () => ({ finish: () => new Uint8Array() }), decode: () => ({}), fromJSON: () => ({}), toJSON: () => ({}), fromPartial: () => ({}) }, requestStream: false, responseStream: false } as never, {}, {});
    const outcome = call.catch((e: unknown) => e);
    session.channelLost(channels[0]!, new Error('cut'));
    expect(events.map((e) => e.type)).toEqual(['lost', 'reconnecting']);
    // First retry after 20 ms (jitter 0.5 = none): a new stream and a resume hello with the session id.
    clock.advance(20);
    expect(channels).toHaveLength(2);
    await flush();
    const hello = channels[1]!.written.flatMap((b) => b.frames).find((f) => f.kind?.$case === 'hello');
    expect((hello?.kind as { hello: { sessionId: string } }).hello.sessionId).toBe('sid');
    // No answer: each attempt times out after the heartbeat timeout, backing off until the window is spent.
    clock.advance(2500);
    const error = (await outcome) as MeshError;
    expect(error).toBeInstanceOf(MeshError);
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(error.message).toContain('within 2000 ms');
    expect(session.isOpen).toBe(false);
    expect(channels.length).toBeGreaterThanOrEqual(3);
    expect(kinds(channels[1]!)).toContain('hello');
  });
});
