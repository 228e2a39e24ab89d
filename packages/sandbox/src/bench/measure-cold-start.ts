// Benchmark hooks the bench package calls: cold start, resident memory and CPU time per task for
// each way this workspace can run untrusted work. No timing is asserted here; the bench reports ratios.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createIsolateSandbox, type IsolateSandbox } from '../isolate/isolate-sandbox';
import { builtEntry } from '../package-paths';
import { detectIsolation } from '../process/detect-isolation';
import { createProcessSandbox } from '../process/process-sandbox';

export type ColdStartKind = 'fresh-isolate' | 'pooled-isolate' | 'worker-thread' | 'node-process' | 'bubblewrap-node' | 'docker';

export const COLD_START_KINDS: readonly ColdStartKind[] = ['fresh-isolate', 'pooled-isolate', 'worker-thread', 'node-process', 'bubblewrap-node', 'docker'];

export interface ColdStartSample {
  /** From asking for the task to having its result, in the caller's process. */
  readonly ms: number;
  /** Memory the task itself used; see `memorySource` for what is counted. */
  readonly memoryBytes: number;
  /** CPU time of the task, when it can be attributed (not for worker threads on Node 20). */
  readonly cpuMs?: number;
}

export interface ColdStartMeasurement {
  readonly kind: ColdStartKind;
  /** Why nothing was measured (for example 'skipped: no Docker engine ...'). */
  readonly skipped?: string;
  readonly samples: readonly ColdStartSample[];
  readonly p50Ms?: number;
  readonly memorySource: string;
}

export interface MeasureColdStartOptions {
  /** Samples to take; default 20. */
  readonly samples?: number;
  /** An isolate sandbox to measure; by default one is created and closed. */
  readonly isolateSandbox?: IsolateSandbox;
  /** Pause between pooled-isolate samples so the pool refills, as it does between real requests. Default 20 ms. */
  readonly pauseMs?: number;
}

/** Measures one kind's cold start so the bench can compare isolates, threads, processes and containers. */
export async function measureColdStart(kind: ColdStartKind, options: MeasureColdStartOptions = {}): Promise<ColdStartMeasurement> {
  const count = Math.max(1, options.samples ?? 20);
  switch (kind) {
    case 'fresh-isolate':
    case 'pooled-isolate':
      return measureIsolate(kind, count, options);
    case 'worker-thread':
      return finish(kind, 'worker heap used (V8 heap statistics inside the worker)', await repeat(count, measureWorkerThread));
    case 'node-process': {
      const probe = builtEntry('bench/cold-start-probe.js');
      return finish(kind, 'child peak RSS (resourceUsage().maxRSS inside the child)', await repeat(count, () => measureChild(process.execPath, [probe])));
    }
    case 'bubblewrap-node':
      return measureBubblewrap(count);
    case 'docker':
      return measureDocker(count);
  }
}

/** Measures every kind in one run, so ratios between them come from the same machine state. */
export async function measureAllColdStarts(options: MeasureColdStartOptions = {}): Promise<ColdStartMeasurement[]> {
  const results: ColdStartMeasurement[] = [];
  for (const kind of COLD_START_KINDS) results.push(await measureColdStart(kind, options));
  return results;
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function finish(kind: ColdStartKind, memorySource: string, samples: ColdStartSample[]): ColdStartMeasurement {
  return { kind, samples, p50Ms: median(samples.map((sample) => sample.ms)), memorySource };
}

async function repeat(count: number, take: () => Promise<ColdStartSample>): Promise<ColdStartSample[]> {
  await take(); // warm the file cache; not counted
  const samples: ColdStartSample[] = [];
  for (let i = 0; i < count; i++) samples.push(await take());
  return samples;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measureIsolate(kind: 'fresh-isolate' | 'pooled-isolate', count: number, options: MeasureColdStartOptions): Promise<ColdStartMeasurement> {
  const sandbox = options.isolateSandbox ?? createIsolateSandbox({ poolSize: 2 });
  try {
    await sandbox.ready();
    const pause = options.pauseMs ?? 20;
    await sleep(pause * 3);
    const samples = await repeat(count, async () => {
      if (kind === 'pooled-isolate') await sleep(pause);
      const result = await sandbox.run({ code: '1' }, { fresh: kind === 'fresh-isolate' });
      if (!result.ok) throw new Error(`cold-start isolate run failed: ${result.error?.kind}: ${result.error?.message}`);
      return { ms: result.roundTripMs, memoryBytes: result.heapUsedBytes, cpuMs: result.cpuMs };
    });
    return finish(kind, 'isolate V8 heap used', samples);
  } finally {
    if (!options.isolateSandbox) await sandbox.close();
  }
}

function measureWorkerThread(): Promise<ColdStartSample> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().used_heap_size)", { eval: true });
    worker.once('message', (used: number) => {
      const ms = performance.now() - started;
      void worker.terminate().then(() => resolve({ ms, memoryBytes: used }));
    });
    worker.once('error', reject);
  });
}

function measureChild(file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ColdStartSample> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) return reject(new Error(`cold-start probe exited ${String(code)}: ${err.trim()}`));
      const report = JSON.parse(out) as { maxRssBytes: number; cpuMs: number };
      resolve({ ms, memoryBytes: report.maxRssBytes, cpuMs: report.cpuMs });
    });
  });
}

async function measureBubblewrap(count: number): Promise<ColdStartMeasurement> {
  const kind = 'bubblewrap-node';
  const memorySource = 'child peak RSS (resourceUsage().maxRSS inside the sandbox)';
  const isolation = detectIsolation({ docker: false });
  if (!isolation.bubblewrap.available) return { kind, skipped: `skipped: ${isolation.bubblewrap.reason}`, samples: [], memorySource };
  const probe = builtEntry('bench/cold-start-probe.js');
  const sandbox = createProcessSandbox({ policy: { workspace: path.dirname(probe), allow: ['node'] }, isolation: 'bubblewrap' });
  const samples = await repeat(count, async () => {
    const started = performance.now();
    const result = await sandbox.run({ command: 'node', args: [path.basename(probe)] });
    const ms = performance.now() - started;
    if (!result.allowed || !result.ok) throw new Error(`bubblewrap cold-start probe failed: ${JSON.stringify(result).slice(0, 500)}`);
    const report = JSON.parse(result.stdout) as { maxRssBytes: number; cpuMs: number };
    return { ms, memoryBytes: report.maxRssBytes, cpuMs: report.cpuMs };
  });
  return finish(kind, memorySource, samples);
}

async function measureDocker(count: number): Promise<ColdStartMeasurement> {
  const kind = 'docker';
  const memorySource = 'container peak RSS (resourceUsage().maxRSS inside the container)';
  const docker = detectIsolation({ docker: true }).docker;
  if (!docker.available) return { kind, skipped: `skipped: ${docker.reason}`, samples: [], memorySource };
  const image = process.env.AGENTMESH_BENCH_DOCKER_IMAGE ?? 'node:20-slim';
  const pulled = spawnSync(docker.path!, ['image', 'inspect', image], { timeout: 10_000 });
  if (pulled.status !== 0) return { kind, skipped: `skipped: image ${image} is not present locally (no pulls during a bench)`, samples: [], memorySource };
  const code = 'const u=process.resourceUsage();process.stdout.write(JSON.stringify({maxRssBytes:u.maxRSS*1024,cpuMs:(u.userCPUTime+u.systemCPUTime)/1000}))';
  const samples = await repeat(count, () => measureChild(docker.path!, ['run', '--rm', '--network', 'none', image, 'node', '-e', code], process.env));
  return finish(kind, memorySource, samples);
}
