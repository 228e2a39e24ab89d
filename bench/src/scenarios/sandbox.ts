/**
 * The sandbox scenario: cold start p50 and memory per sandbox kind, through the
 * sandbox package's own benchmark hooks (`measureColdStart`), all kinds in one
 * run so the ratios between them come from the same machine state.
 */
import { COLD_START_KINDS, measureColdStart, type ColdStartMeasurement } from '@agentmesh/sandbox';
import type { BenchConfig } from '../bench-config';
import type { Progress } from '../progress';

/** One sandbox kind's figures. */
export interface SandboxSummary {
  /** Median time from asking for the task to having its result, in the bench's process. */
  coldStartP50Ms: number;
  coldStartP90Ms: number;
  coldStartMaxMs: number;
  /** Median memory of the task, in MiB; what is counted differs by kind, see memorySource. */
  rssMb: number;
  memorySource: string;
  /** Median CPU time of the task, when the kind can attribute it. */
  cpuMs?: number;
  samples: number;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

/** Summarizes one measurement; undefined when the kind was skipped. */
export function summarizeColdStart(measurement: ColdStartMeasurement): SandboxSummary | undefined {
  if (measurement.skipped || measurement.samples.length === 0) return undefined;
  const ms = measurement.samples.map((s) => s.ms);
  const cpu = measurement.samples.map((s) => s.cpuMs).filter((v): v is number => typeof v === 'number');
  return {
    coldStartP50Ms: round(measurement.p50Ms ?? percentile(ms, 50), 3),
    coldStartP90Ms: round(percentile(ms, 90)),
    coldStartMaxMs: round(Math.max(...ms)),
    rssMb: round(percentile(measurement.samples.map((s) => s.memoryBytes), 50) / (1024 * 1024)),
    memorySource: measurement.memorySource,
    ...(cpu.length ? { cpuMs: round(percentile(cpu, 50)) } : {}),
    samples: measurement.samples.length,
  };
}

/** Measures every sandbox kind; skipped kinds (no bubblewrap, no Docker engine) come back with their reason. */
export async function runSandbox(config: BenchConfig, progress: Progress): Promise<{ sandbox: Record<string, SandboxSummary>; skipped: { what: string; why: string }[] }> {
  // The sandbox logs every allowed run at info on stdout; the bench's stdout is its summary.
  process.env.LOG_LEVEL ??= 'warn';
  const sandbox: Record<string, SandboxSummary> = {};
  const skipped: { what: string; why: string }[] = [];
  for (const kind of COLD_START_KINDS) {
    progress.update(`sandbox: ${kind} cold start, ${config.sandbox.samples} samples`);
    try {
      const measurement = await measureColdStart(kind, { samples: config.sandbox.samples });
      const summary = summarizeColdStart(measurement);
      if (summary) sandbox[kind] = summary;
      else skipped.push({ what: `sandbox ${kind}`, why: measurement.skipped ?? 'no samples' });
    } catch (error) {
      skipped.push({ what: `sandbox ${kind}`, why: `failed: ${(error as Error).message.slice(0, 300)}` });
    }
  }
  return { sandbox, skipped };
}
