/**
 * The shape of a bench run's JSON (issue 6), plus what this run skipped and how
 * it did against the targets.
 */
import type { LatencySummaryUs } from './latency';
import type { OpenLoopPoint, ThroughputPoint } from './scenarios/throughput';
import type { RttPoint, WorkflowSummary } from './scenarios/workflow';
import type { SandboxSummary } from './scenarios/sandbox';
import type { DemoRun, DemoSummary } from './scenarios/demo';

/** Everything one run measured. */
export interface BenchResults {
  version: 1;
  startedAt: string;
  mode: 'quick' | 'full';
  command: string;
  env: { node: string; cpu: string; cores: number; usableCores: number; grpcJs: string; platform: string; loadAverage: number[] };
  /** 256 B hop per transport (the headline); hopBySize has every payload size. */
  hop: Record<string, LatencySummaryUs>;
  hopBySize: Record<string, Record<string, LatencySummaryUs>>;
  throughput: Record<string, ThroughputPoint[]>;
  openLoop: Record<string, OpenLoopPoint[]>;
  workflow: Record<string, WorkflowSummary>;
  rtt: RttPoint[];
  /** Per sandbox kind (fresh-isolate, pooled-isolate, worker-thread, node-process, bubblewrap-node, docker). */
  sandbox: Record<string, SandboxSummary>;
  /** The real demo per transport; transportShare is an estimate (method in bench/README.md). */
  demo: Record<string, DemoSummary>;
  /** Every demo run, in the order they ran. */
  demoRuns: DemoRun[];
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
  /** null: a side was not measured, or the row is informational (see `informational`). */
  met: boolean | null;
  note: string;
  /** A figure shown next to a target for context; not itself a target. */
  informational?: boolean;
}

/** Checks issue 6's targets and the sandbox targets on one run's figures (ratios, never absolute times). */
export function evaluateTargets(results: Pick<BenchResults, 'hop' | 'workflow' | 'throughput'> & Partial<Pick<BenchResults, 'sandbox'>>): TargetOutcome[] {
  const out: TargetOutcome[] = [];
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 100) / 100 : null);
  const push = (target: string, value: number | null, limit: string, ok: (v: number) => boolean, missing: string) =>
    out.push({ target, ratio: value, limit, met: value === null ? null : ok(value), note: value === null ? missing : '' });
  const noMesh = 'not measured: the mesh transport (or its baseline) was not in this run';
  push('mesh hop p50 / tcp hop p50', ratio(results.hop.mesh?.p50Us, results.hop.tcp?.p50Us), '≤ 2', (v) => v <= 2, noMesh);
  push('mesh workflow p50 / unary workflow p50', ratio(results.workflow.mesh?.p50Ms, results.workflow.unary?.p50Ms), '≤ 0.2', (v) => v <= 0.2, noMesh);
  push('mesh workflow p50 / rest workflow p50', ratio(results.workflow.mesh?.p50Ms, results.workflow.rest?.p50Ms), '≤ 0.35', (v) => v <= 0.35, noMesh);
  // The throughput target is on calls/s: a call is the unit of work a caller wants done. frames/s would
  // credit the mesh for its own overhead (it needs more frames per call than one message per write).
  const at64 = (name: string) => results.throughput[name]?.find((p) => p.concurrency === 64);
  push('mesh calls/s / grpc-bidi-raw calls/s at 64 concurrent', ratio(at64('mesh')?.callsPerSec, at64('grpc-bidi-raw')?.callsPerSec), '≥ 5', (v) => v >= 5, noMesh);
  const frames = ratio(at64('mesh')?.framesPerSec, at64('grpc-bidi-raw')?.framesPerSec);
  out.push({
    target: 'mesh frames/s / grpc-bidi-raw frames/s at 64 concurrent',
    ratio: frames,
    limit: 'context',
    met: null,
    informational: true,
    note:
      frames === null
        ? noMesh
        : `not the target (the target is calls/s); mesh ${at64('mesh')?.framesPerCall} frames and ${at64('mesh')?.writesPerCall} writes per call${at64('mesh')?.framesCounted ? ' (counted by the session)' : ' (assumed)'}, grpc-bidi-raw ${at64('grpc-bidi-raw')?.framesPerCall} frames per call, one message per write`,
  });
  const sandbox = results.sandbox ?? {};
  const noSandbox = 'not measured: a sandbox kind was missing in this run (see skipped)';
  // "n x faster to start" = the bubblewrap process's cold start p50 / the isolate's.
  push('bubblewrap-node cold start p50 / fresh-isolate cold start p50', ratio(sandbox['bubblewrap-node']?.coldStartP50Ms, sandbox['fresh-isolate']?.coldStartP50Ms), '≥ 20', (v) => v >= 20, noSandbox);
  push('bubblewrap-node cold start p50 / pooled-isolate cold start p50', ratio(sandbox['bubblewrap-node']?.coldStartP50Ms, sandbox['pooled-isolate']?.coldStartP50Ms), '≥ 100', (v) => v >= 100, noSandbox);
  for (const t of out) if (t.met === false) t.note = missedBy(t.ratio!, t.limit);
  // Context for the throughput target: what 5x the raw grpc-js stream would be, next to the raw TCP floor.
  const raw = at64('grpc-bidi-raw')?.callsPerSec;
  const tcp = at64('tcp')?.callsPerSec;
  const calls = out.find((t) => t.target.startsWith('mesh calls/s'));
  if (calls && calls.ratio !== null && raw && tcp) {
    calls.note += `${calls.note ? '; ' : ''}5x grpc-bidi-raw is ${5 * raw} calls/s, ${((5 * raw) / tcp).toFixed(2)}x the raw TCP ping-pong's ${tcp} calls/s in this run`;
  }
  return out;
}

/** "missed: 9.47 against ≤ 2 (4.74x over the limit)": how far a ratio is from its limit, in the limit's direction. */
function missedBy(value: number, limit: string): string {
  const bound = Number(limit.replace(/[^0-9.]/g, ''));
  const factor = limit.startsWith('≥') ? bound / value : value / bound;
  const how = limit.startsWith('≥') ? `${factor.toFixed(2)}x short of the limit` : `${factor.toFixed(2)}x over the limit`;
  return `missed: ${value} against ${limit} (${how})`;
}
