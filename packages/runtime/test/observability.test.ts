// Metrics and traces through the registry's and the clients' interceptors, on the mesh and the baselines.
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Observable } from 'rxjs';
import {
  ServiceRegistry,
  createEchoService,
  createGrpcServer,
  createGrpcTransport,
  createLogger,
  createMeshClient,
  createMeshServer,
  createRestServer,
  createRestTransport,
  createServiceClient,
  createServiceMetrics,
  observeHandler,
  startMetricsServer,
  startTracing,
  withClientInterceptors,
  type CallContext,
} from '@agentmesh/runtime';

const log = createLogger('observability-test', { level: 'silent' });

/** The value of one series in a scrape, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('server interceptors wrap every transport; /metrics has calls, latency, sessions and bytes with the right labels', async () => {
  const metrics = createServiceMetrics({ service: 'echo' });
  const registry = new ServiceRegistry().use(metrics.serverInterceptor);
  registry.register(EchoServiceDefinition, createEchoService());
  const mesh = createMeshServer({ identity: 'echo', logger: log, registry, onSessionEvent: metrics.onSessionEvent });
  metrics.observeMeshServer(mesh);
  const grpcServer = createGrpcServer({ registry, log });
  const rest = createRestServer({ registry, log });
  const meshPort = await mesh.listen('127.0.0.1:0');
  const grpcPort = await grpcServer.listen('127.0.0.1:0');
  const restPort = await rest.listen('127.0.0.1:0');
  const endpoint = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry });
  const clientMetrics = createServiceMetrics({ service: 'caller' });
  const pool = createMeshClient({ identity: 'caller', logger: log });
  const transports = {
    mesh: pool.transport(`127.0.0.1:${meshPort}`),
    grpc: createGrpcTransport(`127.0.0.1:${grpcPort}`, { mode: 'grpc' }),
    rest: createRestTransport(`127.0.0.1:${restPort}`, { keepAlive: true }),
  };
  try {
    for (const [name, transport] of Object.entries(transports)) {
      const client = createServiceClient(EchoServiceDefinition, transport, { interceptors: [clientMetrics.clientInterceptor] });
      for (let i = 0; i < 3; i++) await client.echo({ payload: Buffer.from('hi') });
      await expect(client.echo({ failCode: 5, failMessage: 'nope' })).rejects.toThrow('nope');
      const counted: number[] = [];
      for await (const item of client.count({ count: 4 })) counted.push(Number(item.index ?? 0));
      expect(counted).toHaveLength(4);
      expect(name).toBeTruthy();
    }
    const response = await fetch(`http://${endpoint.address}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const transport of ['mesh', 'grpc', 'rest']) {
      const labels = { agent: 'echo', service: 'agentmesh.v1.EchoService', transport };
      expect(sample(text, 'agentmesh_server_calls_total', { ...labels, method: 'Echo', code: 'OK' })).toBe(3);
      expect(sample(text, 'agentmesh_server_calls_total', { ...labels, method: 'Echo', code: 'NOT_FOUND' })).toBe(1);
      expect(sample(text, 'agentmesh_server_calls_total', { ...labels, method: 'Count', code: 'OK' })).toBe(1);
      expect(sample(text, 'agentmesh_server_call_duration_seconds_count', { ...labels, method: 'Echo', code: 'OK' })).toBe(3);
    }
    expect(sample(text, 'agentmesh_server_active_calls', { method: 'Echo' })).toBe(0);
    expect(sample(text, 'agentmesh_mesh_active_sessions', { agent: 'echo' })).toBe(1);
    expect(sample(text, 'agentmesh_mesh_frames_received_total', { agent: 'echo' })).toBeGreaterThan(0);
    expect(sample(text, 'agentmesh_mesh_bytes_sent_total', { agent: 'echo' })).toBeGreaterThan(0);
    expect(sample(text, 'agentmesh_mesh_frames_per_batch', { direction: 'sent' })).toBeGreaterThanOrEqual(1);
    const clientText = await clientMetrics.metrics();
    expect(sample(clientText, 'agentmesh_client_calls_total', { agent: 'caller', method: 'Echo', code: 'OK', transport: 'mesh' })).toBe(3);
    expect(sample(clientText, 'agentmesh_client_calls_total', { method: 'Echo', code: 'NOT_FOUND', transport: 'grpc' })).toBe(1);
    expect(sample(clientText, 'agentmesh_client_call_duration_seconds_count', { method: 'Count', code: 'OK', transport: 'rest' })).toBe(1);
    // Separate registries: the server's scrape has no client series, and the other way round.
    expect(text).not.toContain('agentmesh_client_calls_total{');
    expect(clientText).not.toContain('agentmesh_server_calls_total{');
    mesh.drain('rotation');
    metrics.recordDrain('rotation');
    const after = await metrics.metrics();
    expect(sample(after, 'agentmesh_mesh_drains_total', { reason: 'rotation' })).toBe(1);
  } finally {
    await endpoint.close();
    await pool.close();
    await Promise.all([transports.grpc.close(), transports.rest.close()]);
    await Promise.all([mesh.shutdown(0), grpcServer.close(0), rest.close(0)]);
  }
});

test('sandbox decisions and workflow steps become series under their names, tokens under gen_ai_client_token_usage', async () => {
  const metrics = createServiceMetrics({ service: 'conductor' });
  metrics.recordSandboxDecision({ outcome: 'allowed', sandbox: 'process' });
  metrics.recordSandboxDecision({ outcome: 'refused', sandbox: 'process', rule: 'shell' });
  metrics.recordSandboxDecision({ outcome: 'killed', sandbox: 'isolate', limit: 'timeout' });
  metrics.recordSandboxDecision({ outcome: 'allowed', sandbox: 'process', dryRun: true });
  metrics.recordWorkflow(
    {
      phasesMs: { probe: 20, plan: 5, implement: 300 },
      toolCalls: { validator: { typecheck: 2 }, planner: { probe: 3 } },
      retries: 1,
      tokens: { input: 120, output: 40 },
      planAdherence: { ratio: 0.5, tasksPlanned: 2, tasksDone: 1 },
    },
    'passed',
  );
  const text = await metrics.metrics();
  expect(sample(text, 'agentmesh_sandbox_runs_total', { kind: 'process', outcome: 'allowed' })).toBe(1);
  expect(sample(text, 'agentmesh_sandbox_runs_total', { kind: 'process', outcome: 'refused', reason: 'shell' })).toBe(1);
  expect(sample(text, 'agentmesh_sandbox_runs_total', { kind: 'isolate', outcome: 'killed', reason: 'timeout' })).toBe(1);
  expect(sample(text, 'agentmesh_workflow_phase_duration_seconds_count', { phase: 'implement' })).toBe(1);
  expect(sample(text, 'agentmesh_workflow_tool_calls_total', { agent: 'validator', tool: 'typecheck' })).toBe(2);
  expect(text).toMatch(/^agentmesh_workflow_retries_total\{agent="conductor"\} 1$/m);
  expect(text).toMatch(/^agentmesh_workflow_plan_adherence_ratio\{agent="conductor"\} 0.5$/m);
  expect(sample(text, 'gen_ai_client_token_usage_sum', { gen_ai_token_type: 'input' })).toBe(120);
  expect(sample(text, 'gen_ai_client_token_usage_sum', { gen_ai_token_type: 'output' })).toBe(40);
});

test('observeHandler reports the end of a stream once: completion, error, early stop, Observable unsubscribe', async () => {
  const ends: unknown[] = [];
  const ctx = {} as CallContext;
  async function* three() {
    yield 1;
    yield 2;
    yield 3;
  }
  const all: number[] = [];
  for await (const n of observeHandler(() => three(), {}, ctx, true, { end: (e) => ends.push(e ?? 'ok') }) as AsyncIterable<number>) all.push(n);
  expect(all).toEqual([1, 2, 3]);
  for await (const n of observeHandler(() => three(), {}, ctx, true, { end: (e) => ends.push((e as Error)?.message ?? 'ok') }) as AsyncIterable<number>) if (n === 1) break;
  const failing = new Observable<number>((s) => {
    s.next(1);
    s.error(new Error('boom'));
  });
  await new Promise<void>((resolve) =>
    (observeHandler(() => failing, {}, ctx, true, { end: (e) => ends.push((e as Error).message) }) as Observable<number>).subscribe({ error: () => resolve() }),
  );
  const endless = new Observable<number>((s) => void s.next(1));
  const sub = (observeHandler(() => endless, {}, ctx, true, { end: (e) => ends.push((e as Error).message) }) as Observable<number>).subscribe();
  sub.unsubscribe();
  await expect(observeHandler(() => Promise.reject(new Error('unary')), {}, ctx, false, { end: (e) => ends.push((e as Error).message) })).rejects.toThrow('unary');
  expect(ends).toEqual(['ok', '[cancelled] the consumer stopped the stream early', 'boom', '[cancelled] the consumer stopped the stream early', 'unary']);
});

test('with tracing on, traceparent crosses mesh, grpc and rest hops: one trace id, a span per call on both ends', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing({ exporters: [exporter], simple: true, serviceName: 'test' });
  const backend = new ServiceRegistry();
  backend.register(EchoServiceDefinition, createEchoService());
  const backendMesh = createMeshServer({ identity: 'backend', logger: log, registry: backend });
  const backendPort = await backendMesh.listen('127.0.0.1:0');
  const pool = createMeshClient({ identity: 'relay', logger: log });
  const upstream = pool.client(EchoServiceDefinition, `127.0.0.1:${backendPort}`);
  const seen: Record<string, string>[] = [];
  const relay = new ServiceRegistry();
  relay.register(EchoServiceDefinition, {
    echo: async (request, ctx) => {
      seen.push({ ...ctx.metadata });
      return upstream.echo(request, { signal: ctx.signal });
    },
    count: (request, ctx) => upstream.count(request, { signal: ctx.signal }),
  });
  const grpcServer = createGrpcServer({ registry: relay, log });
  const rest = createRestServer({ registry: relay, log });
  const grpcPort = await grpcServer.listen('127.0.0.1:0');
  const restPort = await rest.listen('127.0.0.1:0');
  const grpcTransport = createGrpcTransport(`127.0.0.1:${grpcPort}`, { mode: 'grpc' });
  const restTransport = createRestTransport(`127.0.0.1:${restPort}`, { keepAlive: true });
  try {
    for (const transport of [grpcTransport, restTransport]) {
      exporter.reset();
      const client = createServiceClient(EchoServiceDefinition, transport);
      await client.echo({ payload: Buffer.from('x') });
      const items: unknown[] = [];
      for await (const item of client.count({ count: 2 })) items.push(item);
      expect(items).toHaveLength(2);
      const spans = exporter.getFinishedSpans();
      const echoSpans = spans.filter((span) => span.name === 'agentmesh.v1.EchoService/Echo');
      // caller CLIENT, relay SERVER, relay CLIENT (mesh), backend SERVER
      expect(echoSpans).toHaveLength(4);
      expect(new Set(echoSpans.map((span) => span.spanContext().traceId)).size).toBe(1);
      const countSpans = spans.filter((span) => span.name === 'agentmesh.v1.EchoService/Count');
      expect(countSpans).toHaveLength(4);
      expect(new Set(countSpans.map((span) => span.spanContext().traceId)).size).toBe(1);
      const transportsSeen = echoSpans.map((span) => span.attributes['agentmesh.transport']).filter(Boolean).sort();
      expect(transportsSeen).toEqual(['mesh', transport.name].sort());
    }
    expect(seen[0].traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // Failures are marked on the span.
    exporter.reset();
    await expect(createServiceClient(EchoServiceDefinition, grpcTransport).echo({ failCode: 9, failMessage: 'precondition' })).rejects.toThrow();
    const failed = exporter.getFinishedSpans().filter((span) => span.attributes['rpc.grpc.status_code'] === 'FAILED_PRECONDITION');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(withClientInterceptors(grpcTransport)).toBe(grpcTransport);
  } finally {
    await Promise.all([grpcTransport.close(), restTransport.close(), pool.close()]);
    await Promise.all([grpcServer.close(0), rest.close(0), backendMesh.shutdown(0)]);
    await tracing.shutdown();
  }
});
