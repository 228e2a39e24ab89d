import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSchedule, filesMentioned, parseTasksMarkdown, planFromTasksMarkdown, TasksMarkdownError } from '../src/engine';

const exampleTasks = fs.readFileSync(path.resolve(__dirname, '../../../examples/broken-repo/tasks.md'), 'utf8');

function errorOf(markdown: string): TasksMarkdownError {
  try {
    parseTasksMarkdown(markdown);
  } catch (error) {
    if (error instanceof TasksMarkdownError) return error;
    throw error;
  }
  throw new Error('expected a TasksMarkdownError');
}

describe('parseTasksMarkdown on the example tasks.md', () => {
  const document = parseTasksMarkdown(exampleTasks);
  const byId = new Map(document.tasks.map((task) => [task.id, task]));

  test('reads phases, ids, [P] markers, story labels, files and lines', () => {
    expect(document.title).toBe('Ledger library repair');
    expect(document.phases.map((phase) => phase.name)).toEqual(['Setup', 'Foundational', 'User Story 1', 'User Story 2', 'Polish & Cross-Cutting Concerns']);
    expect(document.tasks.map((task) => task.id)).toEqual(['T001', 'T002', 'T003', 'T004', 'T005', 'T006', 'T007', 'T008', 'T009', 'T010']);
    expect(byId.get('T005')).toEqual({
      id: 'T005',
      title: 'Fix the misspelled call in src/stats.ts',
      parallel: true,
      story: 'US1',
      phase: 'User Story 1',
      files: ['src/stats.ts'],
      dependsOn: ['T002', 'T003'],
      kind: 'fix-diagnostics',
      diagnostics: [],
      sourceLine: exampleTasks.split('\n').findIndex((line) => line.includes('T005')) + 1,
    });
    expect(byId.get('T001')).toMatchObject({ parallel: false, story: '', phase: 'Setup', files: ['tsconfig.json'] });
    expect(byId.get('T010')?.files).toEqual(['test/ledger.test.ts']);
  });

  test('later phases wait for earlier ones; tasks on the same file run in order', () => {
    expect(byId.get('T002')?.dependsOn).toEqual(['T001']);
    expect(byId.get('T006')?.dependsOn.sort()).toEqual(['T004', 'T005']);
    expect(byId.get('T007')?.dependsOn).toEqual(['T006']);
    // T009 edits src/index.ts after T006 did; T006 is already implied through T007/T008.
    expect(byId.get('T009')?.dependsOn.sort()).toEqual(['T007', 'T008']);
    expect(buildSchedule(document.tasks).map((group) => group.taskIds)).toEqual([
      ['T001'],
      ['T002', 'T003'],
      ['T004', 'T005'],
      ['T006'],
      ['T007', 'T008'],
      ['T009'],
      ['T010'],
    ]);
  });

  test('planFromTasksMarkdown gives the plan with its schedule', () => {
    const plan = planFromTasksMarkdown(exampleTasks);
    expect(plan.goal).toBe('tasks: Ledger library repair');
    expect(plan.tasks).toHaveLength(10);
    expect(plan.schedule.flatMap((group) => group.taskIds).sort()).toEqual(plan.tasks.map((task) => task.id).sort());
  });
});

describe('dependencies', () => {
  test('[P] tasks touching the same file run one after another; different files run together', () => {
    const plan = planFromTasksMarkdown(
      ['## Phase 1: Setup', '- [ ] T001 [P] Edit src/a.ts', '- [ ] T002 [P] Edit src/b.ts', '- [x] T003 [P] Edit src/a.ts again', '- [ ] T004 [P] Write notes'].join('\n'),
    );
    expect(plan.tasks.map((task) => [task.id, task.dependsOn])).toEqual([
      ['T001', []],
      ['T002', []],
      ['T003', ['T001']],
      ['T004', []],
    ]);
    expect(plan.schedule.map((group) => group.taskIds)).toEqual([['T001', 'T002', 'T004'], ['T003']]);
    expect(plan.tasks[3].kind).toBe('free-text');
  });

  test('a task without [P] waits for what is listed before it in its phase, and [P] tasks after it wait for it', () => {
    const { tasks } = parseTasksMarkdown(['## Phase 1: Setup', '- [ ] T001 [P] a in a.ts', '- [ ] T002 [P] b in b.ts', '- [ ] T003 gate', '- [ ] T004 [P] c in c.ts'].join('\n'));
    expect(tasks.map((task) => task.dependsOn.sort())).toEqual([[], [], ['T001', 'T002'], ['T003']]);
  });

  test('files in backticks and with ./ prefixes', () => {
    expect(filesMentioned('Create `src/models/user.ts` and ./tests/user.test.ts, then docs/README.md.')).toEqual(['src/models/user.ts', 'tests/user.test.ts', 'docs/README.md']);
  });

  test('buildSchedule rejects unknown dependencies', () => {
    const task = { id: 'T001', title: 't', parallel: false, story: '', phase: '', files: [], dependsOn: ['T999'], kind: 'free-text', diagnostics: [], sourceLine: 0 };
    expect(() => buildSchedule([task])).toThrow('task T001 depends on T999, which is not in the plan');
  });
});

describe('malformed tasks.md', () => {
  const phase = '# Tasks: x\n\n## Phase 1: Setup\n\n';
  test.each([
    ['- [] T001 Bad checkbox', "a task must start with a checkbox '- [ ]' or '- [x]'"],
    ['- [ ] Do something without an id', 'expected a task id such as T001 after the checkbox'],
    ['- [ ] T1 Short id', 'expected a task id such as T001 after the checkbox'],
    ['- [ ] T001 [Q] Unknown marker', 'unknown marker [Q] on task T001: expected [P] or a story label such as [US1]'],
    ['- [ ] T001 [P] [US1] [US2] Two stories', 'task T001 has two story labels, [US1] and [US2]'],
    ['- [ ] T001 [P]', 'task T001 has no description'],
    ['- T001 No checkbox', "a task must start with a checkbox '- [ ]' or '- [x]'"],
  ])('%s', (taskLine, reason) => {
    const error = errorOf(`${phase}- [ ] T000 Fine in src/a.ts\n${taskLine}\n`);
    expect(error.line).toBe(6);
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(`tasks.md line 6: ${reason}: ${JSON.stringify(taskLine)}`);
  });

  test('duplicate ids name both lines', () => {
    const error = errorOf(`${phase}- [ ] T001 One\n- [ ] T002 Two\n- [ ] T001 Again\n`);
    expect(error).toMatchObject({ line: 7, reason: 'duplicate task id T001 (first on line 5)' });
  });

  test('a task before any phase, a bad phase heading, and a file with no tasks', () => {
    expect(errorOf('# Tasks\n- [ ] T001 Early\n')).toMatchObject({ line: 2, reason: "task T001 comes before any '## Phase N: Name' heading" });
    expect(errorOf('## Phase One: Setup\n- [ ] T001 x\n')).toMatchObject({ line: 1, reason: "a phase heading must read '## Phase N: Name'" });
    expect(errorOf('# Nothing here\n')).toMatchObject({ line: 1 });
  });

  test('the example with one line broken reports that line', () => {
    const lines = exampleTasks.split('\n');
    const index = lines.findIndex((line) => line.includes('T007'));
    lines[index] = lines[index].replace('[US2]', '[Story 2]');
    const error = errorOf(lines.join('\n'));
    expect(error.line).toBe(index + 1);
    expect(error.reason).toMatch(/unknown marker \[Story 2\] on task T007/);
  });

  test('lines inside code fences are not tasks', () => {
    const { tasks } = parseTasksMarkdown(`${phase}\`\`\`\n- [] T009 example of a bad line\n\`\`\`\n- [ ] T001 Real in a.ts\n`);
    expect(tasks.map((task) => task.id)).toEqual(['T001']);
  });
});
