/**
 * @agentmesh/planner: the planner agent. It probes a repository read-only through the
 * validator, then plans from a goal, a Spec Kit tasks.md or free text.
 */
export { createPlannerService, planBlind } from './planner-service';
export type { PlannerServiceOptions } from './planner-service';
export * from './engine';
