/** Plans for a goal ('typecheck' or 'tests') from what the read-only probes found. */
import type { Diagnostic, Plan, ProbeResponse, Task } from '@agentmesh/protocol';
import { buildSchedule, linkDependencies } from './build-schedule';

/** The goals the planner knows. */
export const planningGoals = ['typecheck', 'tests'] as const;
export type PlanningGoal = (typeof planningGoals)[number];

function task(fields: Partial<Task> & Pick<Task, 'id' | 'title' | 'kind'>): Task {
  return { parallel: false, story: '', phase: '', files: [], dependsOn: [], diagnostics: [], sourceLine: 0, ...fields };
}

function probe(probes: readonly ProbeResponse[], kind: string): ProbeResponse | undefined {
  return probes.find((result) => result.kind === kind);
}

/** Reads the test runner probe's findings, if there was one. */
function testCommand(probes: readonly ProbeResponse[]): string {
  const runner = probe(probes, 'test-runner');
  if (!runner) return 'the test script';
  const findings = JSON.parse(runner.json || '{}') as { runner?: string; script?: string };
  return findings.script ? `${findings.runner ?? 'unknown'} via npm test` : 'the test script';
}

/**
 * Turns a goal into tasks: 'typecheck' is one fix-diagnostics task per file with type
 * errors (files differ, so they may run in parallel); 'tests' adds a make-tests-pass task
 * after them. It needs the diagnostics probe's result: planning blind is an error.
 */
export function planFromGoal(goal: string, probes: readonly ProbeResponse[]): Plan {
  if (!(planningGoals as readonly string[]).includes(goal)) {
    throw new Error(`unknown goal '${goal}': expected one of ${planningGoals.join(', ')} (or give a tasks.md or free text)`);
  }
  const diagnosticsProbe = probe(probes, 'diagnostics');
  if (!diagnosticsProbe) throw new Error(`the '${goal}' goal needs the result of the diagnostics probe; run the probes first`);
  const byFile = new Map<string, Diagnostic[]>();
  for (const diagnostic of diagnosticsProbe.diagnostics) {
    const list = byFile.get(diagnostic.file) ?? [];
    list.push(diagnostic);
    byFile.set(diagnostic.file, list);
  }
  const tasks: Task[] = [];
  const id = () => `T${String(tasks.length + 1).padStart(3, '0')}`;
  for (const [file, diagnostics] of [...byFile].sort(([left], [right]) => left.localeCompare(right))) {
    const codes = [...new Set(diagnostics.map((diagnostic) => `TS${diagnostic.code}`))].join(', ');
    const count = diagnostics.length === 1 ? '1 type error' : `${diagnostics.length} type errors`;
    tasks.push(task({ id: id(), title: `Fix ${count} in ${file || 'the project settings'} (${codes})`, kind: 'fix-diagnostics', parallel: true, phase: 'Typecheck', files: file ? [file] : [], diagnostics }));
  }
  if (goal === 'tests') {
    const fixes = tasks.map((existing) => existing.id);
    tasks.push(task({ id: id(), title: `Make the tests pass (${testCommand(probes)})`, kind: 'make-tests-pass', phase: 'Tests', dependsOn: fixes }));
  }
  const linked = linkDependencies(tasks);
  return { goal, tasks: linked, schedule: buildSchedule(linked) };
}
