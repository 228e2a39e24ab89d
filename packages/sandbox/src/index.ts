/**
 * @module @agentmesh/sandbox
 *
 * Runs agent code and commands safely: JavaScript in once-used V8 isolates hosted in a recycled
 * worker process; commands as argv (never a shell) under an exec policy, inside bubblewrap when the
 * machine has it. Every decision is logged and counted. Benchmark hooks measure each kind's cost.
 */

// Isolate sandbox
export { createIsolateSandbox, DEFAULT_ISOLATE_LIMITS } from './isolate/isolate-sandbox';
export type {
  Capability,
  IsolateHostStats,
  IsolateRunOptions,
  IsolateSandbox,
  IsolateSandboxOptions,
  IsolateSandboxResult,
} from './isolate/isolate-sandbox';
export type { IsolateErrorKind, IsolateLimits, IsolateRunError, IsolateRunRequest, IsolateRunResult } from './isolate/isolate-protocol';

// Exec policy and process sandbox
export { createExecPolicy, DEFAULT_EXEC_LIMITS, describeRequest } from './process/exec-policy';
export type { ExecDecision, ExecLimits, ExecPlan, ExecPolicy, ExecPolicyOptions, ExecRefusal, ExecRequest, ExecutableRule } from './process/exec-policy';
export { createProcessSandbox } from './process/process-sandbox';
export type { ProcessDryRun, ProcessResult, ProcessRunOptions, ProcessRunOutcome, ProcessSandbox, ProcessSandboxOptions } from './process/process-sandbox';
export { detectIsolation } from './process/detect-isolation';
export type { DetectIsolationOptions, IsolationCapability, IsolationReport } from './process/detect-isolation';
export { validateFindArguments, validateNodeArguments, validatePathArguments } from './process/argument-validators';
export type { ArgumentContext, ArgumentValidator, Refusal } from './process/argument-validators';
export { DEFAULT_ENV_ALLOWLIST } from './process/environment-policy';

// Decisions: logging and counters for the metrics issue
export { createDecisionRecorder } from './decision-recorder';
export type { DecisionCounts, DecisionListener, DecisionRecorder, DecisionRecorderOptions, LimitKind, RefusalRule, SandboxDecision, SandboxKind } from './decision-recorder';

// Benchmark hooks
export { COLD_START_KINDS, measureAllColdStarts, measureColdStart, median } from './bench/measure-cold-start';
export type { ColdStartKind, ColdStartMeasurement, ColdStartSample, MeasureColdStartOptions } from './bench/measure-cold-start';
