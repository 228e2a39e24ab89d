// Operations of `agentmesh serve`: traces across agents, health on drain, graceful SIGTERM, configuration errors.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { createConductor } from '@agentmesh/conductor';
import { createLogger, createMeshClient, startTracing } from '@agentmesh/runtime';
import { checkHealth } from '../src/health-check';
import { copyExample, startAgentServer } from '../src';

const main = path.resolve(__dirname, '../dist/main.js');
const env = { ...process.env, LOG_LEVEL: 'silent' };
const logger = createLogger('operations-test', { level: 'silent' });

test('a trace started at the conductor has spans at the planner and at the validator it probed, with one trace id; health SERVING → NOT_SERVING on drain', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing({ exporters: [exporter], simple: true });
  const validator = await startAgentServer({ services: ['validator'], host: '127.0.0.1', port: 0, logger, identity: 'validator', metricsPort: 0 });
  const planner = await startAgentServer({ services: ['planner'], host: '127.0.0.1', port: 0, validator: validator.address, logger, identity: 'planner', metricsPort: 0 });
  const coder = await startAgentServer({ services: ['coder'], host: '127.0.0.1', port: 0, logger, identity: 'coder' });
  const workspace = copyExample();
  const conductor = createConductor({ agents: { planner: planner.address, coder: coder.address, validator: validator.address } });
  try {
    const report = await conductor.run({ workspace, goal: 'typecheck' }).result;
    expect(report.passed).toBe(true);
    if (report.patchFile) fs.rmSync(report.patchFile, { force: true });
    const spans = exporter.getFinishedSpans();
    const root = spans.find((span) => span.name === 'invoke_agent conductor');
    expect(root).toBeDefined();
    const traceId = root!.spanContext().traceId;
    const inTrace = spans.filter((span) => span.spanContext().traceId === traceId);
    const names = new Set(inTrace.map((span) => span.name));
    // The planner served Plan, and probed the validator, which served Probe: all in the conductor's trace.
    expect(inTrace.some((span) => span.name === 'agentmesh.v1.PlannerService/Plan' && span.kind === 1 /* SERVER */)).toBe(true);
    expect(inTrace.filter((span) => span.name === 'agentmesh.v1.ValidatorService/Probe' && span.kind === 1).length).toBeGreaterThan(0);
    expect(inTrace.filter((span) => span.name === 'agentmesh.v1.ValidatorService/Probe' && span.kind === 2 /* CLIENT */).length).toBeGreaterThan(0);
    expect(names).toEqual(expect.objectContaining({}));
    expect([...names]).toEqual(expect.arrayContaining(['invoke_agent coder', 'invoke_agent validator', 'agentmesh.v1.CoderService/Implement']));
    expect([...names].some((name) => name.startsWith('execute_tool '))).toBe(true);
    expect(spans.filter((span) => span.spanContext().traceId !== traceId && span.name.startsWith('agentmesh.v1.'))).toEqual([]);

    // The planner's metrics endpoint shows its served calls and the calls it placed on the validator.
    const scrape = await (await fetch(`http://${planner.addresses.metrics}/metrics`)).text();
    expect(scrape).toMatch(/agentmesh_server_calls_total\{service="agentmesh.v1.PlannerService",method="Plan",code="OK",transport="mesh",agent="planner"\} 1/);
    expect(scrape).toMatch(/agentmesh_client_calls_total\{service="agentmesh.v1.ValidatorService",method="Probe",code="OK",transport="mesh",agent="planner"\} \d+/);

    // The validator's endpoint counts the sandbox runs its checks made.
    const validatorScrape = await (await fetch(`http://${validator.addresses.metrics}/metrics`)).text();
    expect(validatorScrape).toMatch(/agentmesh_sandbox_runs_total\{kind="process",outcome="allowed",reason="",agent="validator"\} [1-9]/);

    expect(await checkHealth(planner.addresses.grpc)).toBe('SERVING');
    expect((await fetch(`http://${planner.addresses.metrics}/healthz`)).status).toBe(200);
    planner.drain('test');
    expect(await checkHealth(planner.addresses.grpc)).toBe('NOT_SERVING');
    expect((await fetch(`http://${planner.addresses.metrics}/healthz`)).status).toBe(503);
    expect(await checkHealth(planner.addresses.grpc, 'agentmesh.v1.PlannerService')).toBe('NOT_SERVING');
  } finally {
    await conductor.close();
    await Promise.all([planner.close(0), coder.close(0)]);
    await validator.close(0);
    await tracing.shutdown();
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}, 60_000);

test('SIGTERM during 50 in-flight calls lets every one finish, then the process exits 0', async () => {
  const child = spawn(process.execPath, [main, 'serve', 'echo', '--announce', '--grace-ms', '10000'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.split('\n').find((l) => l.includes('"announce"'));
      if (line) resolve(JSON.parse(line).address);
    });
    child.on('exit', () => reject(new Error('the server exited before announcing')));
  });
  const pool = createMeshClient({ identity: 'sigterm-test', logger });
  try {
    const client = pool.client(EchoServiceDefinition, address);
    await client.echo({ payload: Buffer.from('warm') });
    const calls = Array.from({ length: 50 }, (_, i) => client.echo({ payload: Buffer.from(`call ${i}`), delayMs: 800 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    const responses = await Promise.all(calls);
    expect(responses.map((r) => r.payload.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `call ${i}`));
    expect(await exited).toBe(0);
  } finally {
    await pool.close();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 30_000);

test('every bad configuration value gives one clear line naming the setting and what is allowed, and exit code 2', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-config-'));
  const file = (name: string, content: string) => {
    const target = path.join(dir, name);
    fs.writeFileSync(target, content);
    return target;
  };
  const cases: { args: string[]; env?: Record<string, string>; line: string }[] = [
    { args: ['serve'], line: 'agentmesh: serve needs a service name: one of planner, coder, validator, all, echo, relay' },
    { args: ['serve', 'janitor'], line: 'agentmesh: serve\'s service must be one of planner, coder, validator, all, echo, relay, got "janitor"' },
    { args: ['serve', 'coder', '--port', 'abc'], line: 'agentmesh: --port must be an integer from 0 to 65535, got "abc"' },
    { args: ['serve', 'coder', '--port', '70000'], line: 'agentmesh: --port must be an integer from 0 to 65535, got "70000"' },
    { args: ['serve', 'coder'], env: { AGENTMESH_PORT: '-1' }, line: 'agentmesh: AGENTMESH_PORT must be an integer from 0 to 65535, got "-1"' },
    { args: ['serve', 'coder', '--grpc-port', '1.5'], line: 'agentmesh: --grpc-port must be an integer from 0 to 65535, got "1.5"' },
    { args: ['serve', 'coder', '--unary-port', 'x'], line: 'agentmesh: --unary-port must be an integer from 0 to 65535, got "x"' },
    { args: ['serve', 'coder'], env: { AGENTMESH_REST_PORT: '99999' }, line: 'agentmesh: AGENTMESH_REST_PORT must be an integer from 0 to 65535, got "99999"' },
    { args: ['serve', 'coder', '--metrics-port', 'nine'], line: 'agentmesh: --metrics-port must be an integer from 0 to 65535, got "nine"' },
    { args: ['serve', 'coder', '--grace-ms=-5'], line: 'agentmesh: --grace-ms must be an integer number of milliseconds from 0 to 600000, got "-5"' },
    { args: ['serve', 'coder'], env: { AGENTMESH_GRACE_MS: 'soon' }, line: 'agentmesh: AGENTMESH_GRACE_MS must be an integer number of milliseconds from 0 to 600000, got "soon"' },
    { args: ['serve', 'coder', '--log-level', 'loud'], line: 'agentmesh: --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"' },
    { args: ['serve', 'coder'], env: { LOG_LEVEL: 'verbose' }, line: 'agentmesh: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"' },
    { args: ['serve', 'coder', '--host', 'bad host'], line: 'agentmesh: --host must be a host name or IP address, got "bad host"' },
    { args: ['serve', 'planner', '--validator', 'nope:99999'], line: 'agentmesh: --validator must be host:port with a port from 1 to 65535, got "nope:99999"' },
    { args: ['serve', 'planner'], env: { AGENTMESH_VALIDATOR_ADDR: 'validator' }, line: 'agentmesh: AGENTMESH_VALIDATOR_ADDR must be host:port with a port from 1 to 65535, got "validator"' },
    { args: ['serve', 'planner'], line: 'agentmesh: serve planner needs --validator host:port or AGENTMESH_VALIDATOR_ADDR: the planner probes through the validator' },
    { args: ['serve', 'relay'], line: 'agentmesh: serve relay needs --upstream host:port or AGENTMESH_UPSTREAM_ADDR' },
    { args: ['serve', 'coder', '--config', path.join(dir, 'missing.json')], line: `agentmesh: --config must name a readable JSON file, got "${path.join(dir, 'missing.json')}" (ENOENT)` },
  ];
  const broken = file('broken.json', '{ "port": ');
  const unknown = file('unknown.json', '{ "prot": 80 }');
  const badPort = file('bad-port.json', '{ "port": "http" }');
  const notObject = file('array.json', '[1, 2]');
  cases.push(
    { args: ['serve', 'coder', '--config', unknown], line: `agentmesh: ${unknown}: "prot" is not a setting; allowed keys are host, port, grpcPort, unaryPort, restPort, metricsPort, validator, upstream, graceMs, logLevel` },
    { args: ['serve', 'coder', '--config', badPort], line: `agentmesh: ${badPort} port must be an integer from 0 to 65535, got "http"` },
    { args: ['serve', 'coder'], env: { AGENTMESH_CONFIG: notObject }, line: `agentmesh: ${notObject} must be a JSON object with keys among host, port, grpcPort, unaryPort, restPort, metricsPort, validator, upstream, graceMs, logLevel` },
  );
  try {
    for (const { args, env: extra, line } of cases) {
      const result = spawnSync(process.execPath, [main, ...args], { env: { ...env, ...extra }, encoding: 'utf8' });
      expect({ args, status: result.status, stderr: result.stderr }).toEqual({ args, status: 2, stderr: line + '\n' });
    }
    const invalidJson = spawnSync(process.execPath, [main, 'serve', 'coder', '--config', broken], { env, encoding: 'utf8' });
    expect(invalidJson.status).toBe(2);
    expect(invalidJson.stderr).toMatch(new RegExp(`^agentmesh: --config must be a JSON object, got invalid JSON in "${broken.replace(/[.]/g, '\\.')}": .+\\n$`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test('a configuration file is used below the environment and the flags', async () => {
  const { loadServiceConfig } = await import('../src/service-config');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-config-'));
  const file = path.join(dir, 'coder.json');
  fs.writeFileSync(file, JSON.stringify({ port: 7000, grpcPort: 7001, metricsPort: 9464, graceMs: 100, logLevel: 'warn' }));
  try {
    const config = loadServiceConfig('coder', { config: file, port: '7100' }, { AGENTMESH_GRPC_PORT: '7201' });
    expect(config).toMatchObject({ service: 'coder', host: '127.0.0.1', port: 7100, grpcPort: 7201, metricsPort: 9464, graceMs: 100, logLevel: 'warn', unaryPort: 0 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
