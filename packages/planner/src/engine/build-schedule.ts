/**
 * Dependencies and the schedule of a plan: later phases wait for earlier ones, tasks that
 * touch the same file run one after another, and tasks without [P] are sequence points.
 */
import type { Task, TaskGroup } from '@agentmesh/protocol';

/**
 * Fills in each task's dependsOn (keeping any it already has), from the order of the list,
 * its phases, its [P] markers and the files the tasks touch. Every dependency points to an
 * earlier task, so the graph has no cycles.
 */
export function linkDependencies(tasks: readonly Task[]): Task[] {
  const linked: Task[] = [];
  const lastTouch = new Map<string, string>();
  let previousPhase: string[] = [];
  let currentPhase: string[] = [];
  let phase: string | undefined;
  let barrier: string | undefined;
  let sinceBarrier: string[] = [];
  for (const task of tasks) {
    if (task.phase !== phase) {
      if (currentPhase.length > 0) previousPhase = currentPhase;
      currentPhase = [];
      phase = task.phase;
      barrier = undefined;
      sinceBarrier = [];
    }
    const dependsOn = new Set(task.dependsOn);
    // The whole previous phase must finish first (its own chain covers the phases before it).
    for (const id of previousPhase) dependsOn.add(id);
    if (task.parallel) {
      if (barrier) dependsOn.add(barrier);
      sinceBarrier.push(task.id);
    } else {
      // A task without [P] runs after everything listed before it in its phase.
      for (const id of sinceBarrier) dependsOn.add(id);
      if (barrier) dependsOn.add(barrier);
      barrier = task.id;
      sinceBarrier = [];
    }
    for (const file of task.files) {
      const previous = lastTouch.get(file);
      if (previous) dependsOn.add(previous);
      lastTouch.set(file, task.id);
    }
    dependsOn.delete(task.id);
    currentPhase.push(task.id);
    linked.push({ ...task, dependsOn: [...dependsOn] });
  }
  return reduceDependencies(linked);
}

/** Drops dependencies already implied by others, so each task lists only what it directly waits for. */
function reduceDependencies(tasks: Task[]): Task[] {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const reach = new Map<string, Set<string>>();
  const reachable = (id: string): Set<string> => {
    const known = reach.get(id);
    if (known) return known;
    const found = new Set<string>();
    for (const dependency of byId.get(id)?.dependsOn ?? []) {
      found.add(dependency);
      for (const further of reachable(dependency)) found.add(further);
    }
    reach.set(id, found);
    return found;
  };
  return tasks.map((task) => {
    const implied = new Set(task.dependsOn.flatMap((dependency) => [...reachable(dependency)]));
    return { ...task, dependsOn: task.dependsOn.filter((dependency) => !implied.has(dependency)) };
  });
}

/**
 * Groups of tasks that may run at the same time, in order: a task is in the first group
 * after all of its dependencies. An unknown dependency or a cycle is an error.
 */
export function buildSchedule(tasks: readonly Task[]): TaskGroup[] {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const levelOf = (id: string, from: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const task = byId.get(id);
    if (!task) throw new Error(`task ${from} depends on ${id}, which is not in the plan`);
    if (visiting.has(id)) throw new Error(`tasks depend on each other in a cycle through ${id}`);
    visiting.add(id);
    const value = task.dependsOn.reduce((highest, dependency) => Math.max(highest, levelOf(dependency, id) + 1), 0);
    visiting.delete(id);
    level.set(id, value);
    return value;
  };
  const groups: TaskGroup[] = [];
  for (const task of tasks) {
    const value = levelOf(task.id, task.id);
    while (groups.length <= value) groups.push({ taskIds: [] });
    groups[value].taskIds.push(task.id);
  }
  return groups;
}
