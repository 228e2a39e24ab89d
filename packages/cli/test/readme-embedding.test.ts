// The README's embedding examples, run as written (addresses and paths made local), so the front
// door never shows code that does not work.
import * as fs from 'node:fs';
import { firstValueFrom, toArray } from 'rxjs';
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { createMeshClient, createMeshServer, createLogger } from '@agentmesh/runtime';
import { createConductor, formatEvent } from '@agentmesh/conductor';
import { copyExample, startAgentServer } from '../src';

test('README: serve an agent and call it over the mesh', async () => {
  const server = createMeshServer({ identity: 'echo', logger: createLogger('readme', { level: 'silent' }) });
  server.register(EchoServiceDefinition, {
    async echo(request, ctx) {
      ctx.log.info({ peer: ctx.peer.id }, 'echo');
      return { payload: request.payload, receivedMetadata: ctx.metadata };
    },
    async *count(request, ctx) {
      for (let index = 0; index < request.count && !ctx.signal.aborted; index++) yield { index, payload: Buffer.alloc(0) };
    },
  });
  const port = await server.listen('127.0.0.1:0');

  const mesh = createMeshClient({ identity: 'my-service' });
  const echo = mesh.client(EchoServiceDefinition, `127.0.0.1:${port}`);
  const reply = await echo.echo({ payload: Buffer.from('hi') }, { timeoutMs: 1000, metadata: { tenant: 'a' } });
  expect(reply.payload.toString()).toBe('hi');
  expect(reply.receivedMetadata.tenant).toBe('a');
  const iterated: number[] = [];
  for await (const event of echo.count({ count: 3 })) iterated.push(event.index);
  expect(iterated).toEqual([0, 1, 2]);
  const observed = await firstValueFrom(echo.count({ count: 3 }).pipe(toArray()));
  expect(observed.map((e) => e.index)).toEqual([0, 1, 2]);
  await mesh.close();
  await server.shutdown(100);
});

test('README: run the whole agent workflow from a backend service', async () => {
  const logger = createLogger('readme', { level: 'silent' });
  const agents = await startAgentServer({ services: ['planner', 'coder', 'validator'], host: '127.0.0.1', port: 0, logger, baselines: [] });
  const workspace = copyExample();
  const conductor = createConductor({
    agents: { planner: agents.address, coder: agents.address, validator: agents.address },
    transport: 'mesh',
  });
  try {
    const run = conductor.run({ workspace, goal: 'tests', apply: false });
    const lines: string[] = [];
    run.events$.subscribe((event) => {
      const line = formatEvent(event);
      if (line) lines.push(line);
    });
    const report = await run.result;
    expect(report.passed).toBe(true);
    expect(report.metrics.planAdherence.ratio).toBe(1);
    expect(lines.some((line) => line.includes('probe'))).toBe(true);
    if (report.patchFile) fs.rmSync(report.patchFile, { force: true });
  } finally {
    await conductor.close();
    await agents.close(0);
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}, 60_000);
