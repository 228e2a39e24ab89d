/**
 * The one contract every transport passes: the same EchoService handlers,
 * called through the transport's CallTransport, must behave the same way.
 * Add a transport with one call: `runTransportContract('mesh', makeMesh)`.
 */
import { Code, EchoServiceDefinition, MeshError } from '@agentmesh/protocol';
import { createServiceClient } from '../src/client';
import type { CallTransport, ServiceClient, ServiceDefinition, ServiceImplementation } from '../src/types';

/** Anything handlers can be registered on (every server transport, the mesh server too). */
export interface ContractServer {
  register<S extends ServiceDefinition>(service: S, implementation: ServiceImplementation<S>): unknown;
}

/** A running server and a client transport to it. */
export interface ContractFixture {
  transport: CallTransport;
  close(): Promise<void>;
}

/** Starts a server, lets `register` add the contract's handlers before it listens, and connects a transport. */
export type MakeServerAndTransport = (register: (server: ContractServer) => void) => Promise<ContractFixture>;

/** What a transport can carry; the contract checks what it promises. */
export interface ContractCapabilities {
  /** Streamed events arrive one by one (true) or whole at the end (false: unary, rest). */
  incrementalStreaming: boolean;
  /** MeshError details and trailers survive the trip. */
  errorDetails: boolean;
}

/** What the contract's handlers saw, for assertions on the server side. */
interface Probe {
  started: Set<string>;
  aborts: Map<string, unknown>;
}

const DETAIL = { type: 'agentmesh.test.Detail', value: Buffer.from([1, 2, 3]) };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function echoImplementation(probe: Probe): ServiceImplementation<typeof EchoServiceDefinition> {
  const track = (ctx: { metadata: Readonly<Record<string, string>>; signal: AbortSignal }) => {
    const key = ctx.metadata['x-test-call'];
    if (!key) return;
    probe.started.add(key);
    ctx.signal.addEventListener('abort', () => probe.aborts.set(key, ctx.signal.reason), { once: true });
  };
  return {
    async echo(request, ctx) {
      track(ctx);
      ctx.responseHeaders['x-echo-header'] = 'header-value';
      ctx.trailers['x-echo-trailer'] = 'trailer-value';
      if (request.delayMs) await abortableDelay(request.delayMs, ctx.signal);
      if (request.failMessage === '__throw__') throw new Error('secret internals: db password hunter2');
      if (request.failCode) {
        throw new MeshError(request.failCode, request.failMessage, { details: [DETAIL], metadata: { 'x-error-trailer': 'why' } });
      }
      return {
        payload: request.responseBytes ? Buffer.alloc(request.responseBytes, 7) : request.payload,
        receivedMetadata: { ...ctx.metadata },
      };
    },
    async *count(request, ctx) {
      track(ctx);
      for (let index = 0; index < request.count; index++) {
        if (request.failAfter && index === request.failAfter) throw new MeshError(Code.ABORTED, `failed after ${index} events`);
        if (request.intervalMs && index > 0) await abortableDelay(request.intervalMs, ctx.signal);
        yield { index, payload: Buffer.alloc(request.payloadBytes, index % 256) };
      }
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (error) {
    return error as MeshError;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** Defines the contract's tests for one transport inside the current describe block. */
export function defineTransportContract(make: MakeServerAndTransport, capabilities: ContractCapabilities): void {
  let fixture: ContractFixture;
  let client: ServiceClient<typeof EchoServiceDefinition>;
  let probe: Probe;

  beforeAll(async () => {
    probe = { started: new Set(), aborts: new Map() };
    fixture = await make((server) => server.register(EchoServiceDefinition, echoImplementation(probe)));
    client = createServiceClient(EchoServiceDefinition, fixture.transport);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  test('unary call returns the response', async () => {
    const response = await client.echo({ payload: Buffer.from('hello') });
    expect(Buffer.from(response.payload).toString()).toBe('hello');
  });

  test('metadata travels both ways: request metadata, response headers and trailers', async () => {
    let headers: Record<string, string> = {};
    let trailers: Record<string, string> = {};
    const response = await client.echo(
      { payload: Buffer.from('m') },
      {
        metadata: { 'X-Test-Key': 'v1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        onHeaders: (h) => (headers = h),
        onTrailers: (t) => (trailers = t),
      },
    );
    expect(response.receivedMetadata['x-test-key']).toBe('v1');
    expect(response.receivedMetadata.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(headers['x-echo-header']).toBe('header-value');
    expect(trailers['x-echo-trailer']).toBe('trailer-value');
  });

  test('a MeshError reaches the caller with its code and message', async () => {
    const error = await rejection(client.echo({ failCode: Code.NOT_FOUND, failMessage: 'no such ledger' }));
    expect(error).toBeInstanceOf(MeshError);
    expect(error.code).toBe(Code.NOT_FOUND);
    expect(error.rawMessage).toBe('no such ledger');
    if (capabilities.errorDetails) {
      expect(error.details).toHaveLength(1);
      expect(error.details[0].type).toBe(DETAIL.type);
      expect([...error.details[0].value]).toEqual([1, 2, 3]);
      expect(error.metadata['x-error-trailer']).toBe('why');
    }
  });

  test('a handler that throws shows the peer a generic INTERNAL, never its internals', async () => {
    const error = await rejection(client.echo({ failMessage: '__throw__' }));
    expect(error.code).toBe(Code.INTERNAL);
    expect(error.message).not.toMatch(/secret|hunter2/);
  });

  test("the caller's abort cancels the call and fires the handler's signal", async () => {
    const controller = new AbortController();
    const call = client.echo({ delayMs: 10_000 }, { signal: controller.signal, metadata: { 'x-test-call': 'cancel-1' } });
    await eventually(() => probe.started.has('cancel-1'), 'the handler to start');
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await eventually(() => probe.aborts.has('cancel-1'), "the handler's signal to fire");
    expect((probe.aborts.get('cancel-1') as MeshError).code).toBe(Code.CANCELLED);
  });

  test('a passed deadline fails the call with DEADLINE_EXCEEDED and stops the handler', async () => {
    const started = Date.now();
    const error = await rejection(client.echo({ delayMs: 10_000 }, { timeoutMs: 150, metadata: { 'x-test-call': 'deadline-1' } }));
    expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(5000);
    await eventually(() => probe.aborts.has('deadline-1'), "the handler's signal to fire");
    expect([Code.DEADLINE_EXCEEDED, Code.CANCELLED]).toContain((probe.aborts.get('deadline-1') as MeshError).code);
  });

  test('a server-streaming call delivers every event in order', async () => {
    const indexes: number[] = [];
    for await (const event of client.count({ count: 5, payloadBytes: 16 })) {
      expect(event.payload.length).toBe(16);
      indexes.push(event.index);
    }
    expect(indexes).toEqual([0, 1, 2, 3, 4]);
  });

  test('a consumer that stops early ends the call cleanly', async () => {
    const indexes: number[] = [];
    const total = capabilities.incrementalStreaming ? 1000 : 20;
    for await (const event of client.count({ count: total, intervalMs: 2 }, { metadata: { 'x-test-call': 'early-1' } })) {
      indexes.push(event.index);
      if (indexes.length === 3) break;
    }
    expect(indexes).toEqual([0, 1, 2]);
    if (capabilities.incrementalStreaming) {
      await eventually(() => probe.aborts.has('early-1'), "the streaming handler's signal to fire");
      expect((probe.aborts.get('early-1') as MeshError).code).toBe(Code.CANCELLED);
    }
  });

  test('an error in the middle of a stream reaches the caller with its code', async () => {
    const indexes: number[] = [];
    let failure: MeshError | undefined;
    try {
      for await (const event of client.count({ count: 10, failAfter: 3 })) indexes.push(event.index);
    } catch (error) {
      failure = error as MeshError;
    }
    expect(failure?.code).toBe(Code.ABORTED);
    expect(failure?.rawMessage).toBe('failed after 3 events');
    if (capabilities.incrementalStreaming) expect(indexes).toEqual([0, 1, 2]);
  });

  test('200 concurrent calls each get their own response', async () => {
    const calls = Array.from({ length: 200 }, (_, i) => client.echo({ payload: Buffer.from(`call-${i}`) }));
    const responses = await Promise.all(calls);
    responses.forEach((response, i) => expect(Buffer.from(response.payload).toString()).toBe(`call-${i}`));
  });
}

/** Runs the whole contract against one transport, in its own describe block. */
export function runTransportContract(
  name: string,
  make: MakeServerAndTransport,
  capabilities: ContractCapabilities = { incrementalStreaming: true, errorDetails: true },
): void {
  describe(`${name} transport contract`, () => defineTransportContract(make, capabilities));
}
