/**
 * What a run streams and what it returns: the conductor's events (a discriminated union,
 * one `type` per step) and the run report with its step metrics.
 */
import type { Diagnostic, Patch, Plan, Task, TestFailure } from '@agentmesh/protocol';

/** The agents a run talks to. */
export type AgentName = 'planner' | 'coder' | 'validator';

/** The run's states, in the order a good run passes them. */
export type RunState = 'starting' | 'planning' | 'implementing' | 'verifying' | 'repairing' | 'finishing' | 'succeeded' | 'failed' | 'cancelled';

/** A task's states: pending → implementing → validating → (retrying → implementing)* → done | failed. */
export type TaskState = 'pending' | 'implementing' | 'validating' | 'retrying' | 'done' | 'failed';

/** Phases timed in the report. */
export type PhaseName = 'probe' | 'plan' | 'implement' | 'validate' | 'verify' | 'repair' | 'finish';

/** One check as the validator reported it. */
export interface CheckSummary {
  name: string;
  passed: boolean;
  diagnostics: Diagnostic[];
  failures: TestFailure[];
  durationMs: number;
  isolation: string;
}

/** One event of a run. */
export type ConductorEvent =
  | { type: 'state'; from: RunState; to: RunState }
  | { type: 'phase-start'; phase: PhaseName }
  | { type: 'phase-end'; phase: PhaseName; durationMs: number }
  | { type: 'probe-start'; kind: string }
  | { type: 'probe-end'; kind: string; ok: boolean; summary: string; durationMs: number }
  | { type: 'task-found'; task: Task }
  | { type: 'plan'; plan: Plan }
  | { type: 'task-state'; taskId: string; from: TaskState; to: TaskState; attempt: number }
  | { type: 'patch'; taskId: string; patch: Patch }
  | { type: 'check-start'; taskId: string; name: string }
  | { type: 'check-end'; taskId: string; check: CheckSummary }
  | { type: 'task-verdict'; taskId: string; attempt: number; passed: boolean; summary: string }
  | { type: 'retry'; taskId: string; attempt: number; reason: string; rejectedCandidates: string[] }
  | { type: 'metrics'; metrics: RunMetrics }
  | { type: 'run-end'; status: RunReport['status']; passed: boolean; error?: string };

/** Latency of the calls to one peer: time from placing a call to its first event. */
export interface HopLatency {
  address: string;
  calls: number;
  /** Time from placing a call to its first event: transport plus the agent's own work before it answers. */
  p50Ms: number;
  maxMs: number;
  /** The transport alone: the mesh session's last heartbeat round trip to this peer (mesh only). */
  rttMs?: number;
}

/** The step metrics of a run. */
export interface RunMetrics {
  /** Wall time per phase; implement and validate add up the calls of tasks that ran in parallel. */
  phasesMs: Partial<Record<PhaseName, number>>;
  totalMs: number;
  /** Tool calls per agent and kind, e.g. validator.typecheck, planner.probe, coder.compiler-check. */
  toolCalls: Record<AgentName, Record<string, number>>;
  /** Calls placed on each agent. */
  calls: Record<AgentName, number>;
  retries: number;
  tokens: { input: number; output: number };
  planAdherence: {
    tasksPlanned: number;
    tasksDone: number;
    /** tasksDone / tasksPlanned (1 when nothing was planned). */
    ratio: number;
    /** Files the final patches touch that no task named. */
    filesOutsidePlan: string[];
  };
  hopLatency: Partial<Record<AgentName, HopLatency>>;
}

/** A task's outcome in the report. */
export interface TaskReport {
  id: string;
  title: string;
  state: TaskState;
  attempts: number;
  patches: number;
  /** Candidate ids the validator's feedback made the coder drop. */
  rejectedCandidates: string[];
  /** What the coder considered, as it reported it. */
  considered: string[];
  checks: CheckSummary[];
}

/** What a run returns. */
export interface RunReport {
  workspace: string;
  goal: string;
  status: 'passed' | 'failed' | 'cancelled';
  /** Every check of the final verification passed. */
  passed: boolean;
  probes: boolean;
  validators: boolean;
  plan?: Plan;
  tasks: TaskReport[];
  /** The final patch set, in the order it applies. */
  patches: Patch[];
  /** The files written when the patches were applied (apply=true and every check passed). */
  applied: string[];
  /** Where the patch set was written when it was not applied. */
  patchFile?: string;
  /** The final verification's checks. */
  verification: CheckSummary[];
  metrics: RunMetrics;
  error?: { agent?: AgentName; message: string };
}

/** Both sides of a compare run: everything on, and the switches given (default both off). */
export interface CompareReport {
  grounded: RunReport;
  ungrounded: RunReport;
}
