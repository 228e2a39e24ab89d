/**
 * @agentmesh/conductor: drives the planner, coder and validator through one run
 * (probe → plan → (implement → validate)* → verify) and reports what it cost.
 * Embeddable: createConductor(...).run(...) gives an rxjs Observable of events and a report.
 */
export { createConductor, RunFailedError } from './create-conductor';
export type { AgentAddresses, Conductor, ConductorOptions, ConductorRun, RunRequest } from './create-conductor';
export type {
  AgentName,
  CheckSummary,
  CompareReport,
  ConductorEvent,
  HopLatency,
  PhaseName,
  RunMetrics,
  RunReport,
  RunState,
  TaskReport,
  TaskState,
} from './conductor-event';
export { formatRunReport, formatCompareReport, formatEvent } from './format-report';
export { applyPatchSet, applyUnifiedDiffText, formatPatchFile } from './apply-unified-diff';
