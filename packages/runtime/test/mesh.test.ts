/**
 * The mesh over real loopback sockets: every call shape, cancellation,
 * deadlines, errors, limits, and many calls sharing one Connect stream.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { firstValueFrom, take, toArray } from 'rxjs';
import { Code, EchoServiceDefinition, MeshError } from '@agentmesh/protocol';
import { createEchoService, createMeshClient, createMeshServer, type MeshClient, type MeshServer } from '@agentmesh/runtime';

/** A pino logger whose lines a test can read. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (predicate()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe('mesh over loopback', () => {
  let server: MeshServer;
  let mesh: MeshClient;
  let address: string;
  const aborts: Array<{ method: string; reason: unknown }> = [];
  const log = capturedLogger();

  beforeAll(async () => {
    server = createMeshServer({ identity: 'echo-server', logger: log.logger, limits: { maxMessageBytes: 64 * 1024 } });
    server.register(EchoServiceDefinition, createEchoService({ onAbort: (method, reason) => aborts.push({ method, reason }) }));
    const port = await server.listen('127.0.0.1:0');
    address = `127.0.0.1:${port}`;
    mesh = createMeshClient({ identity: 'test-client' });
  });

  afterAll(async () => {
    await mesh.close();
    await server.shutdown(100);
  });

  const echo = () => mesh.client(EchoServiceDefinition, address);

  describe('unary', () => {
    test('basic: the payload comes back', async () => {
      const response = await echo().echo({ payload: Buffer.from('hello mesh') });
      expect(response.payload.toString()).toBe('hello mesh');
    });

    test('metadata both ways: request metadata, response headers and trailers', async () => {
      const headers: Array<Record<string, string>> = [];
      const trailers: Array<Record<string, string>> = [];
      const response = await echo().echo(
        { payload: Buffer.from('m') },
        {
          metadata: { 'X-Echo-Header': 'h1', 'x-echo-trailer': 't1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
          onHeaders: (h) => headers.push(h),
          onTrailers: (t) => trailers.push(t),
        },
      );
      expect(response.receivedMetadata['x-echo-header']).toBe('h1');
      expect(response.receivedMetadata.traceparent).toMatch(/^00-0af7/);
      expect(headers).toEqual([{ 'x-echo-header': 'h1' }]);
      expect(trailers).toEqual([{ 'x-echo-trailer': 't1' }]);
    });

    test('error with code, message and details', async () => {
      const error = await echo().echo({ failCode: Code.FAILED_PRECONDITION, failMessage: 'tests are red' }).catch((e) => e);
      expect(error).toBeInstanceOf(MeshError);
      expect(error.code).toBe(Code.FAILED_PRECONDITION);
      expect(error.rawMessage).toBe('tests are red');
      expect(error.message).toBe('[failed precondition] tests are red');
      expect(error.details).toHaveLength(1);
      expect(error.details[0].type).toBe('agentmesh.v1.EchoRequest');
      expect(Buffer.from(error.details[0].value).toString()).toBe('detail');
    });

    test('a handler that throws: the peer sees a generic INTERNAL, the log has the cause', async () => {
      const error = await echo().echo({ failCode: 999 }).catch((e) => e);
      expect(error.code).toBe(Code.INTERNAL);
      expect(error.rawMessage).toBe('internal error');
      expect(error.message).not.toContain('secret');
      const line = log.lines.find((l) => (l.err as { message?: string } | undefined)?.message?.includes('simulated handler bug'));
      expect(line).toBeDefined();
      expect(line!.method).toBe('/agentmesh.v1.EchoService/Echo');
    });

    test('cancel from the client: the call rejects with the abort reason and the handler signal fires', async () => {
      const controller = new AbortController();
      const before = aborts.length;
      const pending = echo().echo({ delayMs: 5000 }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const error = await pending.catch((e) => e);
      expect(error.name).toBe('AbortError');
      await waitFor(() => aborts.length > before);
      expect((aborts[aborts.length - 1].reason as MeshError).code).toBe(Code.CANCELLED);
    });

    test('deadline exceeded: the caller gets DEADLINE_EXCEEDED and the handler stops', async () => {
      const before = aborts.length;
      const started = Date.now();
      const error = await echo().echo({ delayMs: 5000 }, { timeoutMs: 100 }).catch((e) => e);
      expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(3000);
      await waitFor(() => aborts.length > before);
      expect([Code.DEADLINE_EXCEEDED, Code.CANCELLED]).toContain((aborts[aborts.length - 1].reason as MeshError).code);
    });

    test('1,000 concurrent calls share one stream', async () => {
      const before = server.stats().sessionsAccepted;
      const client = echo();
      const responses = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.echo({ payload: Buffer.from(String(i)) })));
      responses.forEach((r, i) => expect(r.payload.toString()).toBe(String(i)));
      expect(server.stats().sessionsAccepted).toBe(before);
    });

    test('a request over the size limit: RESOURCE_EXHAUSTED, and the session stays up', async () => {
      await echo().echo({}); // the peer's hello (with its limit) has arrived
      const error = await echo().echo({ payload: Buffer.alloc(100 * 1024) }).catch((e) => e);
      expect(error.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(error.message).toContain('65536');
      const ok = await echo().echo({ payload: Buffer.from('still up') });
      expect(ok.payload.toString()).toBe('still up');
    });

    test("a response over the caller's size limit: RESOURCE_EXHAUSTED, and the session stays up", async () => {
      const small = createMeshClient({ identity: 'small-client', limits: { maxMessageBytes: 32 * 1024 } });
      const client = small.client(EchoServiceDefinition, address);
      await client.echo({});
      const error = await client.echo({ responseBytes: 40 * 1024 }).catch((e) => e);
      expect(error.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(error.message).toContain('32768');
      const ok = await client.echo({ payload: Buffer.from('ok') });
      expect(ok.payload.toString()).toBe('ok');
      await small.close();
    });

    test('an unknown method gets UNIMPLEMENTED naming it', async () => {
      const bogus = { ...EchoServiceDefinition, fullName: 'agentmesh.v1.NoSuchService' };
      const error = await mesh.client(bogus, address).echo({}).catch((e) => e);
      expect(error.code).toBe(Code.UNIMPLEMENTED);
      expect(error.message).toContain('/agentmesh.v1.NoSuchService/Echo');
    });
  });

  describe('server-streaming', () => {
    test('basic: every event in order, as an Observable', async () => {
      const events = await firstValueFrom(echo().count({ count: 50 }).pipe(toArray()));
      expect(events.map((e) => e.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    test('basic: every event in order, as an AsyncIterable', async () => {
      const seen: number[] = [];
      for await (const event of echo().count({ count: 600 })) seen.push(event.index);
      expect(seen).toEqual(Array.from({ length: 600 }, (_, i) => i));
    });

    test('metadata both ways on a stream', async () => {
      const trailers: Array<Record<string, string>> = [];
      await firstValueFrom(
        echo()
          .count({ count: 2 }, { metadata: { 'x-anything': 'v' }, onTrailers: (t) => trailers.push(t) })
          .pipe(toArray()),
      );
      expect(trailers).toHaveLength(1);
    });

    test('error mid-stream with its code, after the events before it', async () => {
      const seen: number[] = [];
      const error = await (async () => {
        for await (const event of echo().count({ count: 10, failAfter: 3 })) seen.push(event.index);
      })().catch((e) => e);
      expect(seen).toEqual([0, 1, 2]);
      expect(error.code).toBe(Code.ABORTED);
    });

    test('early end: taking 3 of 10,000 cancels the rest and the handler signal fires', async () => {
      const before = aborts.length;
      const events = await firstValueFrom(echo().count({ count: 10_000, intervalMs: 1 }).pipe(take(3), toArray()));
      expect(events.map((e) => e.index)).toEqual([0, 1, 2]);
      await waitFor(() => aborts.length > before);
      expect((aborts[aborts.length - 1].reason as MeshError).code).toBe(Code.CANCELLED);
    });

    test('cancel from the client via signal', async () => {
      const controller = new AbortController();
      const seen: number[] = [];
      const error = await (async () => {
        for await (const event of echo().count({ count: 1000, intervalMs: 5 }, { signal: controller.signal })) {
          seen.push(event.index);
          if (seen.length === 2) controller.abort();
        }
      })().catch((e) => e);
      expect(error.name).toBe('AbortError');
      expect(seen.length).toBeGreaterThanOrEqual(2);
    });

    test('deadline exceeded on a stream', async () => {
      const error = await firstValueFrom(echo().count({ count: 1000, intervalMs: 20 }, { timeoutMs: 150 }).pipe(toArray())).catch((e) => e);
      expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
    });

    test('1,000 concurrent streams on one session', async () => {
      const before = server.stats().sessionsAccepted;
      const client = echo();
      const all = await Promise.all(Array.from({ length: 1000 }, () => firstValueFrom(client.count({ count: 5 }).pipe(toArray()))));
      expect(all.every((events) => events.length === 5)).toBe(true);
      expect(server.stats().sessionsAccepted).toBe(before);
    });

    test('a slow AsyncIterable consumer holds the producer back (flow control)', async () => {
      const iterator = echo().count({ count: 100_000 })[Symbol.asyncIterator]();
      await iterator.next();
      await new Promise((r) => setTimeout(r, 200));
      const session = mesh.session(address);
      // The server may run at most one window ahead; far fewer than 100,000 frames arrived.
      expect(session.stats.framesReceived).toBeLessThan(50_000);
      await iterator.return!();
    });
  });

  test('many calls of both shapes share a single Connect stream', async () => {
    const client2 = createMeshClient({ identity: 'fresh-client' });
    const before = server.stats().sessionsAccepted;
    const c = client2.client(EchoServiceDefinition, address);
    await Promise.all([
      ...Array.from({ length: 100 }, () => c.echo({})),
      ...Array.from({ length: 100 }, () => firstValueFrom(c.count({ count: 3 }).pipe(toArray()))),
    ]);
    expect(server.stats().sessionsAccepted - before).toBe(1);
    expect(server.sessions().some((s) => s.peer.id === 'fresh-client')).toBe(true);
    await client2.close();
  });
});
