// The coder over a real loopback mesh: patches stream as start, hunks, end; the repo is never written.
import { CoderServiceDefinition, type ImplementEvent, type Task } from '@agentmesh/protocol';
import { createMeshClient, createMeshServer, type MeshClient, type MeshServer } from '@agentmesh/runtime';
import { createCoderService } from '../src';
import { copyBrokenRepo, removeDir, treeDigest } from './broken-repo';

let server: MeshServer;
let mesh: MeshClient;
let address: string;
let workspace: string;

const task = (fields: Partial<Task>): Task => ({ id: 'T001', title: '', parallel: false, story: '', phase: '', files: [], dependsOn: [], kind: 'fix-diagnostics', diagnostics: [], sourceLine: 0, ...fields });

beforeAll(async () => {
  workspace = copyBrokenRepo();
  server = createMeshServer({ identity: 'coder' }).register(CoderServiceDefinition, createCoderService());
  address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  mesh = createMeshClient({ identity: 'test' });
});
afterAll(async () => {
  await mesh.close();
  await server.shutdown(100);
  removeDir(workspace);
});

test('implement streams patch start, hunks and end, then a finish; it never writes the repository', async () => {
  const client = mesh.client(CoderServiceDefinition, address);
  const before = treeDigest(workspace);
  const events: ImplementEvent[] = [];
  for await (const event of client.implement({ workspace, task: task({ files: ['src/totals.ts'] }), attempt: 1 })) events.push(event);
  const cases = events.map((event) => event.event?.$case);
  expect(cases[0]).toBe('patchStart');
  expect(cases).toContain('patchDelta');
  expect(cases.at(-2)).toBe('patchEnd');
  expect(cases.at(-1)).toBe('finish');
  const end = events.find((event) => event.event?.$case === 'patchEnd')?.event;
  expect(end?.$case === 'patchEnd' && end.patchEnd.patch).toMatchObject({ file: 'src/totals.ts', description: 'Add import from "./money"', taskId: 'T001' });
  const finish = events.at(-1)?.event;
  expect(finish?.$case === 'finish' && finish.finish.considered.length).toBeGreaterThan(0);
  expect(treeDigest(workspace)).toBe(before);
});

test('a rejected candidate is not offered again', async () => {
  const client = mesh.client(CoderServiceDefinition, address);
  const first: string[] = [];
  for await (const event of client.implement({ workspace, task: task({ files: ['src/stats.ts'] }) })) if (event.event?.$case === 'patchEnd') first.push(event.event.patchEnd.patch!.candidateId);
  expect(first).toHaveLength(1);
  const second: string[] = [];
  for await (const event of client.implement({ workspace, task: task({ files: ['src/stats.ts'] }), attempt: 2, rejectedCandidates: first })) {
    if (event.event?.$case === 'patchEnd') second.push(event.event.patchEnd.patch!.candidateId);
  }
  expect(second).not.toContain(first[0]);
});

test('a free-text task without a model provider is a clear FAILED_PRECONDITION', async () => {
  const client = mesh.client(CoderServiceDefinition, address);
  const failure = await (async () => {
    for await (const _ of client.implement({ workspace, task: task({ kind: 'free-text', title: 'make it nicer' }) })) void _;
  })().catch((error: unknown) => error);
  expect(String((failure as Error).message)).toMatch(/model provider is needed/);
});
