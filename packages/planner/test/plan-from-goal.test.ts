import * as fs from 'node:fs';
import * as path from 'node:path';
import { Code, MeshError, type ProbeResponse } from '@agentmesh/protocol';
import { planFromFreeText, planFromGoal, planWorkspace, TasksMarkdownError, type PlannerEvent, type PlannerModelProvider } from '../src/engine';

// What the validator's real probes report on examples/broken-repo (durations zeroed).
const probes: ProbeResponse[] = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/broken-repo-probes.json'), 'utf8'));
const exampleTasks = fs.readFileSync(path.resolve(__dirname, '../../../examples/broken-repo/tasks.md'), 'utf8');

function recordingProvider(answer: string): PlannerModelProvider & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    specificationVersion: 'v1',
    modelId: 'recorded',
    prompts,
    async *stream({ prompt }) {
      prompts.push(prompt);
      for (const line of answer.split(/(?<=\n)/)) yield { type: 'text-delta', delta: line };
      yield { type: 'usage', usage: { inputTokens: 120, outputTokens: 40 } };
      yield { type: 'finish', reason: 'stop' };
    },
  };
}

async function drain(events: AsyncIterable<PlannerEvent>): Promise<PlannerEvent[]> {
  const all: PlannerEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('planFromGoal', () => {
  test("'typecheck': one fix-diagnostics task per file with type errors, all in one parallel group", () => {
    const plan = planFromGoal('typecheck', probes);
    expect(plan.tasks.map((task) => [task.id, task.files[0], task.diagnostics.length, task.kind])).toEqual([
      ['T001', 'src/memory-sink.ts', 1, 'fix-diagnostics'],
      ['T002', 'src/stats.ts', 1, 'fix-diagnostics'],
      ['T003', 'src/summary.ts', 2, 'fix-diagnostics'],
      ['T004', 'src/totals.ts', 1, 'fix-diagnostics'],
    ]);
    expect(plan.tasks[2].title).toBe('Fix 2 type errors in src/summary.ts (TS2339)');
    expect(plan.tasks[2].diagnostics.map((diagnostic) => diagnostic.line)).toEqual([9, 10]);
    expect(plan.schedule).toEqual([{ taskIds: ['T001', 'T002', 'T003', 'T004'] }]);
  });

  test("'tests': the same plus a make-tests-pass task after them, naming the runner", () => {
    const plan = planFromGoal('tests', probes);
    const last = plan.tasks[plan.tasks.length - 1];
    expect(last).toMatchObject({ id: 'T005', kind: 'make-tests-pass', title: 'Make the tests pass (node-test via npm test)' });
    expect(last.dependsOn).toEqual(['T001', 'T002', 'T003', 'T004']);
    expect(plan.schedule.map((group) => group.taskIds)).toEqual([['T001', 'T002', 'T003', 'T004'], ['T005']]);
  });

  test('a clean repository plans no fixes; unknown goals and missing probes are clear errors', () => {
    const clean = probes.map((result) => (result.kind === 'diagnostics' ? { ...result, diagnostics: [] } : result));
    expect(planFromGoal('typecheck', clean).tasks).toEqual([]);
    expect(planFromGoal('tests', clean).tasks.map((task) => task.kind)).toEqual(['make-tests-pass']);
    expect(() => planFromGoal('deploy', probes)).toThrow("unknown goal 'deploy': expected one of typecheck, tests");
    expect(() => planFromGoal('typecheck', [])).toThrow("the 'typecheck' goal needs the result of the diagnostics probe");
  });
});

describe('planFromFreeText', () => {
  test('without a model provider: a clear FAILED_PRECONDITION error', async () => {
    const attempt = planFromFreeText({ text: 'add CSV export' });
    await expect(attempt).rejects.toThrow(/planning from free text needs a model provider/);
    await expect(attempt).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
    await expect(attempt).rejects.toBeInstanceOf(MeshError);
  });

  test("with one: the model's tasks.md becomes the plan, grounded by the probes", async () => {
    const provider = recordingProvider('```markdown\n## Phase 1: Setup\n- [ ] T001 [P] Add src/csv.ts\n- [ ] T002 Export it from src/index.ts\n```\n');
    const streamed: string[] = [];
    const result = await planFromFreeText({ text: 'add CSV export', provider, probes, onText: (delta) => streamed.push(delta) });
    expect(result.plan.goal).toBe('add CSV export');
    expect(result.plan.tasks.map((task) => [task.id, task.files, task.dependsOn])).toEqual([
      ['T001', ['src/csv.ts'], []],
      ['T002', ['src/index.ts'], ['T001']],
    ]);
    expect(result.usage).toMatchObject({ inputTokens: 120, outputTokens: 40 });
    expect(provider.prompts[0]).toContain('add CSV export');
    expect(provider.prompts[0]).toContain('diagnostics: 5 type errors in 4 files');
    expect(streamed.join('')).toBe(result.markdown);
  });
});

describe('planWorkspace', () => {
  test('streams each probe, each task, then the plan and a finish', async () => {
    const asked: string[] = [];
    const probe = async (kind: string) => {
      asked.push(kind);
      if (kind === 'git') throw new Error('git is not installed');
      const found = probes.find((result) => result.kind === kind);
      if (!found) throw new Error(`no ${kind}`);
      return found;
    };
    const events = await drain(planWorkspace({ source: { goal: 'tests' }, probe }));
    expect(asked).toEqual(['tree', 'package', 'tsconfig', 'test-runner', 'diagnostics', 'git']);
    expect(events.map((event) => event.type)).toEqual([
      ...Array(6).fill(['probe-start', 'probe-end']).flat(),
      'task', 'task', 'task', 'task', 'task',
      'plan',
      'finish',
    ]);
    const failed = events.find((event) => event.type === 'probe-end' && event.kind === 'git');
    expect(failed).toMatchObject({ ok: false, error: { code: 'UNKNOWN', subject: 'git', message: 'git is not installed' } });
    const finish = events[events.length - 1];
    expect(finish).toMatchObject({ type: 'finish', usage: { toolCalls: 6 } });
  });

  test('a malformed tasks.md fails with its line number; skipped probes are not run', async () => {
    const probe = jest.fn();
    const broken = exampleTasks.replace('- [ ] T004 [P]', '- [ ] T004 [PP]');
    const line = broken.split('\n').findIndex((text) => text.includes('T004')) + 1;
    const run = drain(planWorkspace({ source: { tasksMarkdown: broken }, probe, skipProbes: true }));
    await expect(run).rejects.toBeInstanceOf(TasksMarkdownError);
    await expect(drain(planWorkspace({ source: { tasksMarkdown: broken }, probe, skipProbes: true }))).rejects.toMatchObject({ line });
    expect(probe).not.toHaveBeenCalled();
  });

  test('free text without a provider fails after grounding, saying a model provider is needed', async () => {
    const probe = async (kind: string) => probes.find((result) => result.kind === kind) as ProbeResponse;
    await expect(drain(planWorkspace({ source: { freeText: 'make it faster' }, probe }))).rejects.toThrow(/needs a model provider/);
  });

  test('cancel stops before the next probe', async () => {
    const controller = new AbortController();
    const probe = async (kind: string) => {
      controller.abort();
      return probes.find((result) => result.kind === kind) as ProbeResponse;
    };
    await expect(drain(planWorkspace({ source: { goal: 'typecheck' }, probe, signal: controller.signal }))).rejects.toThrow(/abort/i);
  });
});
