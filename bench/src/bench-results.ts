/**
 * The shape of a bench run's JSON (issue 6), plus what this run skipped and how
 * it did against the targets.
 */
import type { LatencySummaryUs } from './latency';
import type { OpenLoopPoint, ThroughputPoint } from './scenarios/throughput';
import type { RttPoint, WorkflowSummary } from './scenarios/workflow';

/** Everything one run measured. */
export interface BenchResults {
  version: 1;
  startedAt: string;
  mode: 'quick' | 'full';
  command: string;
  env: { node: string; cpu: string; cores: number; grpcJs: string; platform: string; loadAverage: number[] };
  /** 256 B hop per transport (the headline); hopBySize has every payload size. */
  hop: Record<string, LatencySummaryUs>;
  hopBySize: Record<string, Record<string, LatencySummaryUs>>;
  throughput: Record<string, ThroughputPoint[]>;
  openLoop: Record<string, OpenLoopPoint[]>;
  workflow: Record<string, WorkflowSummary>;
  rtt: RttPoint[];
  sandbox: Record<string, { coldStartP50Ms: number; rssMb: number }>;
  /** Scenarios or transports not measured in this run, and why. */
  skipped: { what: string; why: string }[];
  targets: TargetOutcome[];
  durationSec: number;
}

/** One target of issue 6 and how this run did. */
export interface TargetOutcome {
  target: string;
  /** measured ratio, or null when a side was not measured */
  ratio: number | null;
  limit: string;
  met: boolean | null;
  note: string;
}

/** Checks issue 6's targets on one run's figures (ratios, never absolute times). */
export function evaluateTargets(results: Pick<BenchResults, 'hop' | 'workflow' | 'throughput'>): TargetOutcome[] {
  const out: TargetOutcome[] = [];
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 100) / 100 : null);
  const push = (target: string, value: number | null, limit: string, ok: (v: number) => boolean, missing: string) =>
    out.push({ target, ratio: value, limit, met: value === null ? null : ok(value), note: value === null ? missing : '' });
  const noMesh = 'not measured: the mesh transport was not in this run';
  push('mesh hop p50 / tcp hop p50', ratio(results.hop.mesh?.p50Us, results.hop.tcp?.p50Us), '≤ 2', (v) => v <= 2, noMesh);
  push('mesh workflow p50 / unary workflow p50', ratio(results.workflow.mesh?.p50Ms, results.workflow.unary?.p50Ms), '≤ 0.2', (v) => v <= 0.2, noMesh);
  push('mesh workflow p50 / rest workflow p50', ratio(results.workflow.mesh?.p50Ms, results.workflow.rest?.p50Ms), '≤ 0.35', (v) => v <= 0.35, noMesh);
  const at64 = (name: string) => results.throughput[name]?.find((p) => p.concurrency === 64)?.callsPerSec;
  push('mesh calls/s / grpc-bidi-raw calls/s at 64 concurrent', ratio(at64('mesh'), at64('grpc-bidi-raw')), '≥ 5', (v) => v >= 5, noMesh);
  for (const t of out) if (t.met === false) t.note = `missed: ${t.ratio} against ${t.limit}`;
  return out;
}
