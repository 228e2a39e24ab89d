// The validator over a real loopback mesh: read-only probes, and checks in a sandboxed copy.
import { Code, MeshError, ValidatorServiceDefinition, type ValidateEvent } from '@agentmesh/protocol';
import { createMeshClient, createMeshServer, type MeshClient, type MeshServer } from '@agentmesh/runtime';
import { createValidatorService, probeKinds } from '../src';
import { copyBrokenRepo, fullDigest, removeDir } from './workspace-fixture';

let server: MeshServer;
let mesh: MeshClient;
let address: string;
let workspace: string;

beforeAll(async () => {
  workspace = copyBrokenRepo();
  server = createMeshServer({ identity: 'validator' }).register(ValidatorServiceDefinition, createValidatorService());
  address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  mesh = createMeshClient({ identity: 'test' });
});
afterAll(async () => {
  await mesh.close();
  await server.shutdown(100);
  removeDir(workspace);
});

test('no probe writes anything: the tree is the same before and after every probe', async () => {
  const client = mesh.client(ValidatorServiceDefinition, address);
  const before = fullDigest(workspace);
  const results = await Promise.all(probeKinds.map((kind) => client.probe({ workspace, kind })));
  expect(results.map((result) => result.kind)).toEqual([...probeKinds]);
  expect(results.find((result) => result.kind === 'diagnostics')?.diagnostics).toHaveLength(5);
  expect(fullDigest(workspace)).toBe(before);
});

test('validate streams each check with structured diagnostics and failing tests, in a copy', async () => {
  const client = mesh.client(ValidatorServiceDefinition, address);
  const before = fullDigest(workspace);
  const events: ValidateEvent[] = [];
  for await (const event of client.validate({ workspace, patches: [], checks: ['typecheck', 'tests'], taskId: 't' })) events.push(event);
  expect(events.map((event) => event.event?.$case)).toEqual(['checkStart', 'checkEnd', 'checkStart', 'checkEnd', 'finish']);
  const ends = events.flatMap((event) => (event.event?.$case === 'checkEnd' ? [event.event.checkEnd] : []));
  expect(ends[0]).toMatchObject({ name: 'typecheck', passed: false });
  expect(ends[0].diagnostics.map((diagnostic) => `${diagnostic.file}:${diagnostic.code}`)).toContain('src/stats.ts:2552');
  expect(ends[0].diagnostics[0].line).toBeGreaterThan(0);
  expect(ends[1]).toMatchObject({ name: 'tests', passed: false });
  expect(ends[1].failures.map((failure) => failure.message)).toEqual(expect.arrayContaining(['sum is not defined', 'averge is not defined']));
  expect(['bubblewrap', 'process']).toContain(ends[1].isolation);
  const finish = events.at(-1)?.event;
  expect(finish?.$case === 'finish' && finish.finish.passed).toBe(false);
  expect(fullDigest(workspace)).toBe(before);
});

test('a patch that does not apply is a failed apply check, not a crash', async () => {
  const client = mesh.client(ValidatorServiceDefinition, address);
  const patch = { taskId: 't', file: 'src/stats.ts', unifiedDiff: '--- a/src/stats.ts\n+++ b/src/stats.ts\n@@ -1,1 +1,1 @@\n-no such line\n+x\n', description: '', candidateId: 'bogus' };
  const events: ValidateEvent[] = [];
  for await (const event of client.validate({ workspace, patches: [patch], checks: ['typecheck'] })) events.push(event);
  const end = events.find((event) => event.event?.$case === 'checkEnd')?.event;
  expect(end?.$case === 'checkEnd' && end.checkEnd).toMatchObject({ name: 'apply', passed: false });
});

test('a probe of a missing workspace is INVALID_ARGUMENT', async () => {
  const client = mesh.client(ValidatorServiceDefinition, address);
  const failure = await client.probe({ workspace: '/nonexistent/agentmesh', kind: 'tree' }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(MeshError);
  expect((failure as MeshError).code).toBe(Code.INVALID_ARGUMENT);
});
