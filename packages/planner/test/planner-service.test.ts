// The planner over a real loopback mesh, grounding itself through the validator's read-only probes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Code, MeshError, PlannerServiceDefinition, ValidatorServiceDefinition, type PlanEvent } from '@agentmesh/protocol';
import { createMeshClient, createMeshServer, type MeshClient, type MeshServer } from '@agentmesh/runtime';
import { createValidatorService, treeDigest } from '@agentmesh/validator';
import { createPlannerService } from '../src';

const brokenRepo = path.resolve(__dirname, '../../../examples/broken-repo');
let servers: MeshServer[];
let mesh: MeshClient;
let planner: string;
let workspace: string;


beforeAll(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-planner-'));
  fs.cpSync(brokenRepo, workspace, { recursive: true, filter: (source) => !/[\\/](dist|node_modules)$/.test(source) });
  const validatorServer = createMeshServer({ identity: 'validator' }).register(ValidatorServiceDefinition, createValidatorService());
  const validator = `127.0.0.1:${await validatorServer.listen('127.0.0.1:0')}`;
  const plannerServer = createMeshServer({ identity: 'planner' }).register(PlannerServiceDefinition, createPlannerService({ validator }));
  planner = `127.0.0.1:${await plannerServer.listen('127.0.0.1:0')}`;
  servers = [plannerServer, validatorServer];
  mesh = createMeshClient({ identity: 'test' });
});
afterAll(async () => {
  await mesh.close();
  await Promise.all(servers.map((server) => server.shutdown(100)));
  fs.rmSync(workspace, { recursive: true, force: true });
});

async function collect(request: Parameters<ReturnType<typeof mesh.client<typeof PlannerServiceDefinition>>['plan']>[0]): Promise<PlanEvent[]> {
  const events: PlanEvent[] = [];
  for await (const event of mesh.client(PlannerServiceDefinition, planner).plan(request)) events.push(event);
  return events;
}

test('a goal plan streams each probe, each task, the plan and a finish, and the probes write nothing', async () => {
  const before = treeDigest(workspace, { skip: [], metadata: true });
  const events = await collect({ workspace, source: { $case: 'goal', goal: 'tests' } });
  const cases = events.map((event) => event.event?.$case);
  expect(cases.slice(0, 12)).toEqual(Array.from({ length: 6 }, () => ['probeStart', 'probeEnd']).flat());
  expect(cases.filter((name) => name === 'task')).toHaveLength(5);
  expect(cases.slice(-2)).toEqual(['plan', 'finish']);
  const diagnostics = events.find((event) => event.event?.$case === 'probeEnd' && event.event.probeEnd.kind === 'diagnostics')?.event;
  expect(diagnostics?.$case === 'probeEnd' && diagnostics.probeEnd.summary).toMatch(/5 type errors/);
  const plan = events.find((event) => event.event?.$case === 'plan')?.event;
  expect(plan?.$case === 'plan' && plan.plan.schedule.map((group) => group.taskIds.length)).toEqual([4, 1]);
  expect(treeDigest(workspace, { skip: [], metadata: true })).toBe(before);
});

test('a malformed tasks.md is INVALID_ARGUMENT with its line number', async () => {
  const failure = await collect({ workspace, source: { $case: 'tasksMarkdown', tasksMarkdown: '# Tasks\n\n## Phase 1: Setup\n- [ ] T001 ok in src/a.ts\n- [ ] T01 broken id\n' } }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(MeshError);
  expect((failure as MeshError).code).toBe(Code.INVALID_ARGUMENT);
  expect((failure as MeshError).message).toMatch(/line 5/);
});

test('without probes a goal is planned blind: one task over the whole workspace, no files named', async () => {
  const events = await collect({ workspace, source: { $case: 'goal', goal: 'typecheck' }, skipProbes: true });
  expect(events.some((event) => event.event?.$case === 'probeStart')).toBe(false);
  const plan = events.find((event) => event.event?.$case === 'plan')?.event;
  expect(plan?.$case === 'plan' && plan.plan.tasks.map((task) => task.files)).toEqual([[]]);
});
