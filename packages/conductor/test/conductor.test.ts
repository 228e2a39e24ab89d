// The conductor end to end over real loopback mesh servers on copies of examples/broken-repo.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { firstValueFrom, filter, toArray } from 'rxjs';
import { rankCodeFix } from '@agentmesh/coder';
import { createConductor, RunFailedError, type ConductorEvent } from '../src';
import { brokenRepo, copyBrokenRepo, startTestAgents, treeDigest, type TestAgents } from './agents';

const copies: string[] = [];
function copy(): string {
  const dir = copyBrokenRepo();
  copies.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
});

describe('conductor over the mesh', () => {
  let agents: TestAgents;
  beforeAll(async () => {
    agents = await startTestAgents();
  });
  afterAll(() => agents.close());

  test('repairs a copy of the example, applies only when green, and leaves the original untouched', async () => {
    const original = treeDigest(brokenRepo);
    const workspace = copy();
    const conductor = createConductor({ agents: agents.addresses });
    try {
      const run = conductor.run({ workspace, goal: 'tests', apply: true });
      const events = firstValueFrom(run.events$.pipe(toArray()));
      const report = await run.result;
      expect(report.status).toBe('passed');
      expect(report.passed).toBe(true);
      expect(report.applied.sort()).toEqual(['src/memory-sink.ts', 'src/stats.ts', 'src/summary.ts', 'src/totals.ts']);
      expect(report.verification.map((check) => [check.name, check.passed])).toEqual([
        ['typecheck', true],
        ['tests', true],
      ]);
      expect(report.metrics.planAdherence).toMatchObject({ tasksPlanned: 5, tasksDone: 5, ratio: 1, filesOutsidePlan: [] });
      expect(report.metrics.toolCalls.planner.probe).toBe(6);
      expect(report.metrics.toolCalls.validator.tests).toBe(1);
      expect(report.metrics.hopLatency.coder?.calls).toBe(5);
      expect(Object.keys(report.metrics.phasesMs)).toEqual(expect.arrayContaining(['probe', 'plan', 'implement', 'validate', 'verify']));
      const seenTypes = new Set((await events).map((event) => event.type));
      for (const type of ['state', 'probe-end', 'task-found', 'plan', 'patch', 'check-end', 'metrics', 'run-end']) expect(seenTypes.has(type as ConductorEvent['type'])).toBe(true);
      // The copy is green on disk, and the original is as broken as before.
      expect(fs.readFileSync(path.join(workspace, 'src/stats.ts'), 'utf8')).toContain('average(');
      expect(treeDigest(brokenRepo)).toBe(original);
    } finally {
      await conductor.close();
    }
  });

  test('without apply the patch set goes to a .patch file and the workspace is not written', async () => {
    const workspace = copy();
    const before = treeDigest(workspace);
    const patchFile = path.join(workspace, '..', `${path.basename(workspace)}.patch`);
    copies.push(patchFile);
    const conductor = createConductor({ agents: agents.addresses });
    try {
      const report = await conductor.run({ workspace, goal: 'typecheck', patchFile }).result;
      expect(report.passed).toBe(true);
      expect(report.applied).toEqual([]);
      expect(report.patchFile).toBe(patchFile);
      expect(fs.readFileSync(patchFile, 'utf8')).toContain('+++ b/src/totals.ts');
      expect(treeDigest(workspace)).toBe(before);
    } finally {
      await conductor.close();
    }
  });

  test('a malformed tasks.md fails the run with its line number', async () => {
    const conductor = createConductor({ agents: agents.addresses });
    try {
      const tasksMarkdown = '# Tasks\n\n## Phase 1: Setup\n\n- [ ] T001 Fine task in src/money.ts\n- [ ] X002 not a task id\n';
      const failure = await conductor.run({ workspace: copy(), tasksMarkdown }).result.catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RunFailedError);
      expect((failure as RunFailedError).agent).toBe('planner');
      expect((failure as RunFailedError).message).toMatch(/line 6/);
      expect((failure as RunFailedError).report?.status).toBe('failed');
    } finally {
      await conductor.close();
    }
  });

  test('the compare mode runs grounded and ungrounded and shows what grounding buys', async () => {
    const conductor = createConductor({ agents: agents.addresses });
    try {
      const compare = await conductor.compare({ workspace: copy(), goal: 'typecheck' });
      expect(compare.grounded.probes).toBe(true);
      expect(compare.ungrounded.probes).toBe(false);
      expect(compare.ungrounded.validators).toBe(false);
      expect(compare.grounded.metrics.planAdherence.filesOutsidePlan).toEqual([]);
      // Planned blind, the one task names no files: every file it touches is outside the plan.
      expect(compare.ungrounded.metrics.planAdherence.filesOutsidePlan.length).toBeGreaterThan(0);
      expect(compare.ungrounded.metrics.toolCalls.planner.probe ?? 0).toBe(0);
    } finally {
      await conductor.close();
    }
  });

  test('cancel in the middle of a run stops every agent call in flight', async () => {
    const conductor = createConductor({ agents: agents.addresses });
    const before = agents.seen.length;
    try {
      const run = conductor.run({ workspace: copy(), goal: 'tests' });
      await firstValueFrom(run.events$.pipe(filter((event) => event.type === 'check-start')));
      const inFlight = agents.seen.slice(before).filter((call) => !call.signal.aborted);
      expect(inFlight.length).toBeGreaterThan(0);
      run.cancel('test cancels');
      const failure = await run.result.catch((error: unknown) => error);
      expect((failure as RunFailedError).report?.status).toBe('cancelled');
      // Every handler the run started has seen its signal fire (cancel, or completion before it).
      await new Promise((resolve) => setTimeout(resolve, 200));
      const calls = agents.seen.slice(before);
      expect(calls.map((call) => call.agent)).toEqual(expect.arrayContaining(['planner', 'validator', 'coder']));
      expect(calls.every((call) => call.signal.aborted)).toBe(true);
      expect(inFlight.every((call) => call.signal.aborted)).toBe(true);
    } finally {
      await conductor.close();
    }
  });
});

describe('retries with feedback', () => {
  let agents: TestAgents;
  beforeAll(async () => {
    // A ranker that puts the throwing "missing function declaration" stub first: it compiles,
    // so only the tests can tell it is wrong.
    agents = await startTestAgents({ coder: { rank: (fix) => (fix.fixName === 'fixMissingFunctionDeclaration' ? 1000 : rankCodeFix(fix)) } });
  });
  afterAll(() => agents.close());

  test('a first patch the tests reject is retried with the feedback and its candidate rejected, and the run ends green', async () => {
    const conductor = createConductor({ agents: agents.addresses });
    try {
      const run = conductor.run({ workspace: copy(), goal: 'tests' });
      const retries = firstValueFrom(run.events$.pipe(filter((event) => event.type === 'retry'), toArray()));
      const report = await run.result;
      expect(report.passed).toBe(true);
      expect(report.metrics.retries).toBeGreaterThan(0);
      const retried = report.tasks.filter((task) => task.rejectedCandidates.length > 0);
      expect(retried.map((task) => task.title).join(' ')).toMatch(/stats\.ts|totals\.ts/);
      for (const task of retried) expect(task.attempts).toBe(2);
      const events = await retries;
      expect(events.every((event) => event.type === 'retry' && /Function not implemented/.test(event.reason))).toBe(true);
      expect(report.patches.map((patch) => patch.description)).toEqual(expect.arrayContaining(["Change spelling to 'average'", 'Add import from "./money"']));
    } finally {
      await conductor.close();
    }
  });
});
