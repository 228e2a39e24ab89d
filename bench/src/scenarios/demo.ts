/**
 * The demo scenario: the real demo workflow (the conductor repairing a fresh copy
 * of examples/broken-repo with the planner, coder and validator as child
 * processes) over each transport, by spawning the CLI —
 * `node packages/cli/dist/main.js demo --transport <t> --json <file>` — and
 * reading its JSON run report. The bench package depends only on protocol,
 * runtime and sandbox; the CLI is a process, not an import.
 *
 * Transport share (an estimate, stated as such in the report): the synthetic
 * chatty workflow on the same transport, zero think time, gives a per-call cost
 * of the transport alone (client + wire + server dispatch + the streamed events,
 * nothing else): its p50 divided by its calls. That per-call cost × the calls
 * the demo placed (metrics.calls) is the time the demo spent in transport;
 * divided by the demo's end-to-end p50 (metrics.totalMs) it is the share. The
 * estimate errs high: the demo's parallel calls overlap, and summing their costs
 * counts the overlap twice.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startChildServer } from '../child-server';
import type { BenchConfig } from '../bench-config';
import type { Progress } from '../progress';
import type { BenchTransport } from '../transport-table';
import { measureWorkflow } from './workflow';

/** The built CLI the scenario spawns. */
export const cliMain = path.resolve(__dirname, '..', '..', '..', 'packages', 'cli', 'dist', 'main.js');

/** What the scenario reads from one `demo --json` report (the conductor's RunReport). */
export interface DemoReport {
  status: string;
  passed: boolean;
  metrics: {
    phasesMs: Record<string, number>;
    totalMs: number;
    calls: Record<string, number>;
    retries: number;
    hopLatency: Record<string, { calls: number; p50Ms: number; maxMs: number }>;
  };
}

/** One demo run. */
export interface DemoRun {
  transport: string;
  /** The demo process exited 0 (the repaired copy is green). */
  ok: boolean;
  exitCode: number | null;
  /** The conductor's run, start to report (metrics.totalMs). */
  totalMs: number;
  /** Spawn to exit: agent start-up, the run, the final check of the copy, shutdown. */
  processMs: number;
  phasesMs: Record<string, number>;
  calls: number;
  retries: number;
  /** The conductor's first-event latency per agent (includes the agent's own work: not a transport figure). */
  firstEventP50Ms: Record<string, number>;
  error?: string;
}

/** One transport's demo figures. */
export interface DemoSummary {
  /** Median metrics.totalMs of the runs that produced a report. */
  e2eP50Ms: number;
  e2eMinMs: number;
  e2eMaxMs: number;
  /** Median spawn-to-exit time (includes agent start-up and the final check of the copy). */
  processP50Ms: number;
  /** Median wall time per phase (implement and validate add up parallel tasks, as the conductor reports them). */
  phasesP50Ms: Record<string, number>;
  /** Median calls the conductor placed per run. */
  calls: number;
  /** Synthetic workflow p50 / its calls, measured in this scenario on this transport. */
  transportPerCallMs: number;
  /** transportPerCallMs × calls: the estimated time spent in transport per run. */
  transportMs: number;
  /** transportMs / e2eP50Ms. */
  transportShare: number;
  /** e2eP50Ms minus the mesh's e2eP50Ms in the same run (positive: slower than the mesh). */
  deltaVsMeshMs?: number;
  runs: number;
  passedRuns: number;
  samples: number;
}

const median = (values: number[]) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Aggregates the runs of each transport with its calibrated per-call cost (pure; the smoke test checks it). */
export function summarizeDemo(runs: DemoRun[], perCallMs: Record<string, number>): Record<string, DemoSummary> {
  const out: Record<string, DemoSummary> = {};
  const byTransport = new Map<string, DemoRun[]>();
  for (const run of runs) byTransport.set(run.transport, [...(byTransport.get(run.transport) ?? []), run]);
  for (const [transport, all] of byTransport) {
    const reported = all.filter((r) => r.totalMs > 0);
    if (reported.length === 0) continue;
    const totals = reported.map((r) => r.totalMs);
    const e2e = median(totals);
    const calls = median(reported.map((r) => r.calls));
    const phases = [...new Set(reported.flatMap((r) => Object.keys(r.phasesMs)))];
    const perCall = perCallMs[transport] ?? 0;
    out[transport] = {
      e2eP50Ms: round(e2e),
      e2eMinMs: Math.min(...totals),
      e2eMaxMs: Math.max(...totals),
      processP50Ms: round(median(reported.map((r) => r.processMs))),
      phasesP50Ms: Object.fromEntries(phases.map((p) => [p, round(median(reported.map((r) => r.phasesMs[p] ?? 0)))])),
      calls,
      transportPerCallMs: round(perCall, 3),
      transportMs: round(perCall * calls, 2),
      transportShare: e2e > 0 ? round((perCall * calls) / e2e, 5) : 0,
      runs: all.length,
      passedRuns: all.filter((r) => r.ok).length,
      samples: reported.length,
    };
  }
  const mesh = out.mesh?.e2eP50Ms;
  if (mesh !== undefined) for (const summary of Object.values(out)) summary.deltaVsMeshMs = round(summary.e2eP50Ms - mesh);
  return out;
}

/** Spawns one `demo --transport <t> --json <file>`; never throws (a failed run is recorded with its error). */
function runDemoOnce(transport: string, timeoutMs: number, onLine: (line: string) => void): Promise<DemoRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-demo-'));
  const jsonFile = path.join(dir, 'report.json');
  const started = performance.now();
  return new Promise<DemoRun>((resolve) => {
    const child = spawn(process.execPath, [cliMain, 'demo', '--transport', transport, '--json', jsonFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? 'silent' },
    });
    let tail = '';
    let pending = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-3000);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      pending += chunk.toString();
      let index: number;
      while ((index = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, index));
        pending = pending.slice(index + 1);
      }
    });
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const finish = (exitCode: number | null, spawnError?: Error) => {
      clearTimeout(timer);
      const processMs = round(performance.now() - started);
      const base: DemoRun = { transport, ok: exitCode === 0, exitCode, totalMs: 0, processMs, phasesMs: {}, calls: 0, retries: 0, firstEventP50Ms: {} };
      try {
        if (spawnError) throw spawnError;
        const report = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as DemoReport;
        const m = report.metrics;
        resolve({
          ...base,
          totalMs: m.totalMs,
          phasesMs: m.phasesMs,
          calls: Object.values(m.calls).reduce((a, b) => a + b, 0),
          retries: m.retries,
          firstEventP50Ms: Object.fromEntries(Object.entries(m.hopLatency).map(([agent, h]) => [agent, h.p50Ms])),
          ...(exitCode === 0 ? {} : { error: `demo exited ${exitCode}: ${tail.trim().split('\n').slice(-3).join(' / ')}` }),
        });
      } catch (error) {
        resolve({ ...base, ok: false, error: `no report (${(error as Error).message}); exit ${exitCode}; output tail: ${tail.trim().split('\n').slice(-3).join(' / ')}` });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    child.once('error', (error) => finish(null, error));
    child.once('close', (code) => finish(code));
  });
}

/** Per-call transport cost: the synthetic workflow's p50 / its calls, on an echo server of that transport. */
async function calibrate(transport: BenchTransport, config: BenchConfig, progress: Progress): Promise<number> {
  const server = await startChildServer(transport.server.script, transport.server.args);
  const { client, close } = transport.echoClient!(server.address);
  try {
    const summary = await measureWorkflow(client, config.workflow, 3, config.demo.calibrationIterations, (i) =>
      progress.update(`demo: calibrating ${transport.name} per-call cost ${i + 1}/${config.demo.calibrationIterations}`),
    );
    return summary.p50Ms / summary.callsPerWorkflow;
  } finally {
    await close();
    await server.stop();
  }
}

/** Runs the demo `config.demo.runs` times per transport (rounds interleave transports, rotating who goes first). */
export async function runDemo(
  transports: BenchTransport[],
  config: BenchConfig,
  progress: Progress,
): Promise<{ demo: Record<string, DemoSummary>; runs: DemoRun[]; skipped: { what: string; why: string }[] }> {
  const skipped: { what: string; why: string }[] = [];
  if (!fs.existsSync(cliMain)) {
    return { demo: {}, runs: [], skipped: [{ what: 'demo scenario', why: `${cliMain} is missing: build the workspace first (npx tsc -b packages/tsconfig.build.json)` }] };
  }
  const usable = transports.filter((t) => t.echoClient);
  const perCallMs: Record<string, number> = {};
  for (const transport of usable) perCallMs[transport.name] = await calibrate(transport, config, progress);
  const names = usable.map((t) => t.name);
  const runs: DemoRun[] = [];
  const rounds = config.demo.runs + (config.mode === 'full' ? 1 : 0);
  for (let round = 0; round < rounds; round++) {
    const warmup = config.mode === 'full' && round === 0;
    const order = warmup ? names.slice(0, 1) : names.map((_, i) => names[(i + round) % names.length]!);
    for (const transport of order) {
      let phase = 'start-up';
      const label = warmup ? 'warm-up run' : `run ${round + (config.mode === 'full' ? 0 : 1)}/${config.demo.runs}`;
      progress.update(`demo: ${transport} ${label} (${phase})`);
      const run = await runDemoOnce(transport, config.demo.timeoutMs, (line) => {
        const match = /^▶ (\w+)/.exec(line);
        if (match) {
          phase = match[1]!;
          progress.update(`demo: ${transport} ${label} (${phase})`);
        }
      });
      if (!warmup) runs.push(run);
    }
  }
  for (const run of runs) if (run.error) skipped.push({ what: `demo run over ${run.transport}`, why: run.error.slice(0, 400) });
  return { demo: summarizeDemo(runs, perCallMs), runs, skipped };
}
