/**
 * The planner's engine: Spec Kit tasks.md parsing and scheduling, goal plans from probe
 * results, free-text plans through a model provider, and the streamed planning run.
 */
export { parseTasksMarkdown, planFromTasksMarkdown, filesMentioned } from './engine/parse-tasks-markdown';
export type { TasksDocument, TasksPhase } from './engine/parse-tasks-markdown';
export { TasksMarkdownError } from './engine/tasks-markdown-error';
export { linkDependencies, buildSchedule } from './engine/build-schedule';
export { planFromGoal, planningGoals } from './engine/plan-from-goal';
export type { PlanningGoal } from './engine/plan-from-goal';
export { planFromFreeText } from './engine/plan-from-free-text';
export type { PlanFromFreeTextOptions, FreeTextPlan } from './engine/plan-from-free-text';
export { planWorkspace, defaultProbeKinds } from './engine/plan-workspace';
export type { PlanWorkspaceOptions, PlannerEvent, PlanSource } from './engine/plan-workspace';
export type { PlannerModelProvider, PlannerModelPart } from './engine/model-provider';
