/**
 * Throughput: a closed loop (N callers, each sends its next call when the last
 * returns) at several concurrencies on one connection, and an open loop at
 * fixed rates whose latency is measured from each call's intended send time,
 * so a stalled server cannot hide its queue (coordinated omission).
 */
import { startChildServer } from '../child-server';
import { createLatencyHistogram, summarizeUs, type LatencySummaryUs } from '../latency';
import type { BenchConfig } from '../bench-config';
import type { Progress } from '../progress';
import type { BenchTransport } from '../transport-table';
import type { Caller } from '../raw-clients';

/** One closed-loop point. */
export interface ThroughputPoint {
  concurrency: number;
  callsPerSec: number;
  /**
   * Messages on the wire per second, both directions: counted by the mesh session (its data, header,
   * trailer and ack frames), else calls/s × framesPerCall (2: request + response).
   */
  framesPerSec: number;
  /** framesPerSec / callsPerSec. */
  framesPerCall: number;
  /** Writes (frame batches) per call, both directions; equal to framesPerCall where each message is its own write. */
  writesPerCall: number;
  /** Whether frames were counted on the wire or derived from framesPerCall. */
  framesCounted: boolean;
  /** Calls completed in the measured window. */
  samples: number;
  p50Us: number;
  p99Us: number;
}

/** One open-loop point. */
export interface OpenLoopPoint extends LatencySummaryUs {
  targetRate: number;
  achievedRate: number;
  /** Calls not sent because too many were outstanding (the transport could not keep up). */
  shed: number;
}

const PAYLOAD = Buffer.alloc(256, 0x62);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type ClosedLoopPoint = Omit<ThroughputPoint, 'framesPerSec' | 'framesPerCall' | 'writesPerCall' | 'framesCounted'> & { wire?: { frames: number; writes: number } };

async function closedLoop(caller: Caller, concurrency: number, warmupMs: number, measureMs: number): Promise<ClosedLoopPoint> {
  const histogram = createLatencyHistogram();
  let measuring = false;
  let stopped = false;
  let completed = 0;
  const worker = async () => {
    while (!stopped) {
      const start = process.hrtime.bigint();
      await caller.call(PAYLOAD);
      if (measuring && !stopped) {
        histogram.recordValue(Number(process.hrtime.bigint() - start));
        completed++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(warmupMs);
  measuring = true;
  const wire0 = caller.wireStats?.();
  const t0 = process.hrtime.bigint();
  await sleep(measureMs);
  stopped = true;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const wire1 = caller.wireStats?.();
  const wire = wire0 && wire1 ? { frames: (wire1.frames - wire0.frames) / seconds, writes: (wire1.writes - wire0.writes) / seconds } : undefined;
  await Promise.all(workers);
  const summary = summarizeUs(histogram);
  return { concurrency, callsPerSec: Math.round(completed / seconds), samples: completed, p50Us: summary.p50Us, p99Us: summary.p99Us, ...(wire ? { wire } : {}) };
}

/** Runs the closed loop at each concurrency, for each transport. */
export async function runThroughput(transports: BenchTransport[], config: BenchConfig, progress: Progress): Promise<Record<string, ThroughputPoint[]>> {
  const results: Record<string, ThroughputPoint[]> = {};
  for (const transport of transports) {
    const server = await startChildServer(transport.server.script, transport.server.args);
    try {
      const caller = await transport.connect(server.address);
      try {
        for (const concurrency of config.throughput.concurrency) {
          progress.update(`throughput: ${transport.name} closed loop at ${concurrency} concurrent`);
          const point = await closedLoop(caller, concurrency, config.throughput.warmupMs, config.throughput.measureMs);
          const { wire, ...rest } = point;
          const calls = Math.max(1, point.callsPerSec);
          const framesPerSec = wire ? Math.round(wire.frames) : point.callsPerSec * transport.framesPerCall;
          const r2 = (v: number) => Math.round(v * 100) / 100;
          (results[transport.name] ??= []).push({
            ...rest,
            framesPerSec,
            framesPerCall: r2(framesPerSec / calls),
            writesPerCall: r2(wire ? wire.writes / calls : transport.framesPerCall),
            framesCounted: Boolean(wire),
          });
        }
      } finally {
        await caller.close();
      }
    } finally {
      await server.stop();
    }
  }
  return results;
}

/**
 * Sends at `rate` calls/s for `durationMs`, each call's latency counted from
 * when it should have been sent. Calls are released on 1 ms ticks in batches.
 */
async function openLoop(caller: Caller, rate: number, durationMs: number, maxOutstanding: number): Promise<OpenLoopPoint> {
  const histogram = createLatencyHistogram();
  const intervalNs = 1e9 / rate;
  const total = Math.max(1, Math.floor((rate * durationMs) / 1000));
  const start = process.hrtime.bigint();
  let sent = 0;
  let shed = 0;
  let outstanding = 0;
  const inflight: Promise<void>[] = [];
  while (sent + shed < total) {
    const now = Number(process.hrtime.bigint() - start);
    while (sent + shed < total && (sent + shed) * intervalNs <= now) {
      const intended = (sent + shed) * intervalNs;
      if (outstanding >= maxOutstanding) {
        shed++;
        continue;
      }
      sent++;
      outstanding++;
      inflight.push(
        caller.call(PAYLOAD).then(() => {
          outstanding--;
          histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - start) - intended));
        }),
      );
    }
    await sleep(1);
  }
  await Promise.all(inflight);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { targetRate: Math.round(rate), achievedRate: Math.round(sent / seconds), shed, ...summarizeUs(histogram) };
}

/**
 * Runs the open loop at fractions of each transport's closed-loop rate at 64
 * concurrent calls (measured in the same run), so every transport is loaded
 * to the same share of what it can do.
 */
export async function runOpenLoop(
  transports: BenchTransport[],
  closed: Record<string, ThroughputPoint[]>,
  config: BenchConfig,
  progress: Progress,
): Promise<Record<string, OpenLoopPoint[]>> {
  const results: Record<string, OpenLoopPoint[]> = {};
  for (const transport of transports) {
    const capacity = closed[transport.name]?.find((p) => p.concurrency === 64)?.callsPerSec;
    if (!capacity) continue;
    const server = await startChildServer(transport.server.script, transport.server.args);
    try {
      const caller = await transport.connect(server.address);
      try {
        for (const fraction of config.openLoop.loadFractions) {
          const rate = Math.max(10, capacity * fraction);
          progress.update(`open loop: ${transport.name} at ${Math.round(rate)} calls/s (${fraction * 100}% of capacity)`);
          (results[transport.name] ??= []).push(await openLoop(caller, rate, config.openLoop.durationMs, 1024));
        }
      } finally {
        await caller.close();
      }
    } finally {
      await server.stop();
    }
  }
  return results;
}
