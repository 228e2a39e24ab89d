/**
 * Races and accounting edge cases of the mesh session: frames placed while a
 * resume handshake is in flight, calls retried from inside a closing session,
 * acknowledgement between peers with different resume settings. Real loopback
 * sockets, through the TCP proxy where a network fault is needed.
 */
import { firstValueFrom, toArray } from 'rxjs';
import { Code, EchoServiceDefinition, MeshError } from '@agentmesh/protocol';
import { createEchoService, createMeshClient, createMeshServer, type ServiceImplementation } from '@agentmesh/runtime';
import { createTcpProxy } from '@agentmesh/runtime/testing';

async function startServer(options: Parameters<typeof createMeshServer>[0], impl: ServiceImplementation<typeof EchoServiceDefinition> = createEchoService()) {
  const server = createMeshServer(options);
  server.register(EchoServiceDefinition, impl);
  const port = await server.listen('127.0.0.1:0');
  return { server, port };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(predicate: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(5);
  }
}
/** Rejects after ms, so a hung call fails the test instead of timing it out. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`${what} did not settle within ${ms} ms`)))]);
}

describe('mesh races', () => {
  test('a call placed while the resume handshake is in flight does not overtake the replay', async () => {
    const { server, port } = await startServer({ identity: 'echo' });
    const proxy = await createTcpProxy({ target: { host: '127.0.0.1', port } });
    const mesh = createMeshClient({ identity: 'handshake-race' });
    const address = `127.0.0.1:${proxy.port}`;
    const client = mesh.client(EchoServiceDefinition, address);
    try {
      await client.echo({});
      const session = mesh.session(address);
      // Call A's frames are stuck in the blackholed proxy and die with the cut: only the replay can deliver them.
      proxy.blackhole();
      const a = client.echo({ payload: Buffer.from('a') });
      await sleep(30);
      proxy.cut();
      await until(() => session.isDetached);
      // A slow path makes the peer's hello take a while, so call B is placed while the dialer awaits it.
      proxy.setDelay(150);
      proxy.pass();
      await until(() => !session.isDetached);
      const b = client.echo({ payload: Buffer.from('b') });
      const [ra, rb] = await within(Promise.all([a, b]), 4000, 'calls A and B');
      expect(ra.payload.toString()).toBe('a');
      expect(rb.payload.toString()).toBe('b');
      expect(session.stats.resumes).toBe(1);
      expect(server.sessions()[0].stats.protocolErrors).toBe(0);
    } finally {
      await mesh.close();
      await proxy.close();
      await server.shutdown(50);
    }
  });

  test('an idempotent stream whose session cannot resume is retried on a fresh session, not on the closing one', async () => {
    // The server does not resume, so after a cut the dialer's resume is refused and the session closes.
    const { server, port } = await startServer({ identity: 'echo', resume: false });
    const proxy = await createTcpProxy({ target: { host: '127.0.0.1', port } });
    const mesh = createMeshClient({ identity: 'retry-in-close' });
    const address = `127.0.0.1:${proxy.port}`;
    const client = mesh.client(EchoServiceDefinition, address);
    try {
      await client.echo({});
      const first = mesh.session(address);
      const events = firstValueFrom(client.count({ count: 3, intervalMs: 150 }, { idempotent: true }).pipe(toArray()));
      await sleep(50); // before the first event
      proxy.cut();
      const got = await within(events, 4000, 'the retried stream');
      expect(got.map((e) => e.index)).toEqual([0, 1, 2]);
      expect(first.isOpen).toBe(false);
      expect(first.activeCalls).toBe(0);
    } finally {
      await mesh.close();
      await proxy.close();
      await server.shutdown(50);
    }
  });

  test('a peer without resume still acks, so a resuming producer is not stalled by its replay buffer', async () => {
    const { server, port } = await startServer({ identity: 'echo', limits: { maxReplayBytes: 64 * 1024 } });
    const mesh = createMeshClient({ identity: 'no-resume-client', resume: false });
    const client = mesh.client(EchoServiceDefinition, `127.0.0.1:${port}`);
    try {
      const events = await within(firstValueFrom(client.count({ count: 1000, payloadBytes: 1024 }).pipe(toArray())), 4000, 'the stream');
      expect(events).toHaveLength(1000);
      expect(server.sessions()[0].replayBufferBytes).toBeLessThanOrEqual(64 * 1024 + 2048);
    } finally {
      await mesh.close();
      await server.shutdown(50);
    }
  });

  test("a caller's onTrailers or onHeaders callback that throws settles the call instead of hanging it", async () => {
    const { server, port } = await startServer({ identity: 'echo' });
    const mesh = createMeshClient({ identity: 'throwing-callbacks' });
    const client = mesh.client(EchoServiceDefinition, `127.0.0.1:${port}`);
    try {
      const viaTrailers = client.echo({ payload: Buffer.from('t') }, { onTrailers: () => { throw new Error('trailers callback bug'); } });
      expect((await within(viaTrailers, 2000, 'the call with a throwing onTrailers')).payload.toString()).toBe('t');
      const viaHeaders = client
        .echo({}, { metadata: { 'x-echo-header': 'h' }, onHeaders: () => { throw new Error('headers callback bug'); } })
        .catch((e: unknown) => e);
      const error = await within(viaHeaders, 2000, 'the call with a throwing onHeaders');
      expect(error).toBeInstanceOf(MeshError);
      expect((error as MeshError).code).toBe(Code.INTERNAL);
      expect((error as MeshError).message).toContain('headers callback bug');
      expect(mesh.session(`127.0.0.1:${port}`).activeCalls).toBe(0);
      expect((await client.echo({ payload: Buffer.from('after') })).payload.toString()).toBe('after');
    } finally {
      await mesh.close();
      await server.shutdown(50);
    }
  });

  test('a session that arrives during shutdown is refused (retry-safe), not served and then cut', async () => {
    let started = 0;
    const echo = createEchoService();
    const { server, port } = await startServer({ identity: 'echo' }, { ...echo, echo: (request, ctx) => (started++, echo.echo(request, ctx)) });
    const early = createMeshClient({ identity: 'early' });
    const late = createMeshClient({ identity: 'late' });
    try {
      const inflight = early.client(EchoServiceDefinition, `127.0.0.1:${port}`).echo({ payload: Buffer.from('in flight'), delayMs: 300 });
      await sleep(50);
      const stopping = server.shutdown(1000);
      await sleep(20);
      const error = await within(late.client(EchoServiceDefinition, `127.0.0.1:${port}`).echo({ delayMs: 2000 }).catch((e: unknown) => e), 1500, 'the late call');
      expect(error).toBeInstanceOf(MeshError);
      expect((error as MeshError).code).toBe(Code.UNAVAILABLE);
      expect((error as MeshError).message).toContain('shutting down');
      expect(started).toBe(1); // only the in-flight call reached a handler
      expect((await inflight).payload.toString()).toBe('in flight');
      await stopping;
    } finally {
      await early.close();
      await late.close();
    }
  });

  test('a deadline beyond the 24.8-day timer range does not fire at once on either end', async () => {
    const { server, port } = await startServer({ identity: 'echo' });
    const mesh = createMeshClient({ identity: 'far-deadline' });
    const client = mesh.client(EchoServiceDefinition, `127.0.0.1:${port}`);
    try {
      const day = 24 * 3600 * 1000;
      expect((await client.echo({ payload: Buffer.from('30d'), delayMs: 20 }, { timeoutMs: 30 * day })).payload.toString()).toBe('30d');
      // Past what the wire's uint32 of milliseconds can carry (49.7 days) too.
      expect((await client.echo({ payload: Buffer.from('60d'), delayMs: 20 }, { deadline: Date.now() + 60 * day })).payload.toString()).toBe('60d');
    } finally {
      await mesh.close();
      await server.shutdown(50);
    }
  });

  test("the acceptor's resume downtime is measured from the latest loss, not the first", async () => {
    const serverEvents: Array<{ type: string; downtimeMs?: number }> = [];
    const { server, port } = await startServer({ identity: 'echo', onSessionEvent: (_s, e) => serverEvents.push(e) });
    const proxy = await createTcpProxy({ target: { host: '127.0.0.1', port } });
    const mesh = createMeshClient({ identity: 'two-cuts' });
    const client = mesh.client(EchoServiceDefinition, `127.0.0.1:${proxy.port}`);
    try {
      await client.echo({});
      for (let cut = 0; cut < 2; cut++) {
        proxy.cut();
        await until(() => serverEvents.filter((e) => e.type === 'resumed').length > cut);
        await client.echo({});
        await sleep(700);
      }
      const resumed = serverEvents.filter((e) => e.type === 'resumed');
      expect(resumed).toHaveLength(2);
      expect(resumed[1].downtimeMs).toBeLessThan(600); // the first loss was more than 700 ms earlier
    } finally {
      await mesh.close();
      await proxy.close();
      await server.shutdown(50);
    }
  });
});

