/**
 * How much work each scenario does. `quick` fits in about 60 s on a 2-core
 * machine; BENCH_SCALE (0 < scale ≤ 1) shrinks every count and duration further
 * for smoke tests.
 */

/** Sample counts and durations of a run. */
export interface BenchConfig {
  mode: 'quick' | 'full';
  scale: number;
  hop: { warmup: number; samples: number; slowSamples: number; payloads: number[] };
  throughput: { concurrency: number[]; warmupMs: number; measureMs: number };
  openLoop: { transports: string[]; loadFractions: number[]; durationMs: number };
  workflow: { warmup: number; iterations: number; probes: number; planEvents: number; coderEvents: number; rounds: number; checks: number };
  rtt: { oneWayMs: number[]; iterations: number; transports: string[] };
  /** Samples per sandbox kind (one more, unrecorded, warms the file cache). */
  sandbox: { samples: number };
  /**
   * Real demo runs per transport, and the synthetic-workflow iterations that calibrate the
   * per-call transport cost used for the transport share.
   */
  demo: { runs: number; transports: string[]; calibrationIterations: number; timeoutMs: number };
}

/** The config for a mode, scaled by BENCH_SCALE. */
export function benchConfig(mode: 'quick' | 'full', scale: number = Number(process.env.BENCH_SCALE ?? 1)): BenchConfig {
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`BENCH_SCALE must be in (0, 1], got ${process.env.BENCH_SCALE}`);
  const n = (value: number, min = 5) => Math.max(min, Math.round(value * scale));
  const quick = mode === 'quick';
  return {
    mode,
    scale,
    hop: { warmup: n(quick ? 2000 : 5000), samples: n(quick ? 1500 : 20000, 20), slowSamples: n(quick ? 500 : 5000, 20), payloads: [256, 16384] },
    throughput: { concurrency: [1, 16, 64, 256], warmupMs: n(quick ? 150 : 1000, 20), measureMs: n(quick ? 500 : 3000, 50) },
    openLoop: { transports: ['grpc-bidi-raw', 'grpc', 'rest'], loadFractions: quick ? [0.5] : [0.5, 0.8], durationMs: n(quick ? 1000 : 5000, 100) },
    workflow: { warmup: n(quick ? 20 : 50, 1), iterations: n(quick ? 60 : 400, 5), probes: 5, planEvents: 5, coderEvents: 20, rounds: 2, checks: 4 },
    rtt: { oneWayMs: [0, 1, 5], iterations: n(quick ? 10 : 60, 3), transports: ['grpc', 'unary', 'rest'] },
    sandbox: { samples: n(quick ? 20 : 60, 3) },
    demo: {
      runs: quick ? 2 : 5,
      transports: ['mesh', 'grpc', 'unary', 'rest', 'rest-nokeepalive'],
      calibrationIterations: n(quick ? 20 : 100, 3),
      timeoutMs: 180_000,
    },
  };
}
