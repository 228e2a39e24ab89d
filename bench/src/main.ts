/**
 * The bench CLI: `node bench/dist/main.js [--quick] [--scenario <name>]...
 * [--transports a,b] [--out dir] [--silent]`. Servers run in child processes;
 * results go to bench/results/<timestamp>.{json,md}, latest.md and SVG charts;
 * a summary table is printed on stdout.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { benchConfig } from './bench-config';
import { evaluateTargets, type BenchResults } from './bench-results';
import { createProgress } from './progress';
import { terminalSummary, writeReport } from './report';
import { runHop } from './scenarios/hop';
import { runOpenLoop, runThroughput } from './scenarios/throughput';
import { runRtt, runWorkflow } from './scenarios/workflow';
import { runSandbox } from './scenarios/sandbox';
import { runDemo } from './scenarios/demo';
import { benchTransports } from './transport-table';

const SCENARIOS = ['hop', 'throughput', 'workflow', 'rtt', 'sandbox', 'demo'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** Parsed command line. */
export interface BenchArguments {
  quick: boolean;
  scenarios: Scenario[];
  transports: string[] | undefined;
  outDir: string;
  silent: boolean;
  /** Scenarios left out of a default run, and why (the demo in --quick). */
  notDefault: { what: string; why: string }[];
}

/** Scenarios `--quick` runs when none is named: the demo takes ~14 s a run, 10 runs alone would be ~140 s. */
const QUICK_DEFAULT: readonly Scenario[] = SCENARIOS.filter((s) => s !== 'demo');

/** Parses the CLI arguments; unknown flags and scenarios fail with the list of valid ones. */
export function parseArguments(argv: string[]): BenchArguments {
  const args: BenchArguments = { quick: false, scenarios: [], transports: undefined, outDir: path.resolve(__dirname, '..', 'results'), silent: false, notDefault: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') args.quick = true;
    else if (arg === '--silent') args.silent = true;
    else if (arg === '--scenario') {
      for (const name of value().split(',')) {
        if (!SCENARIOS.includes(name as Scenario)) throw new Error(`unknown scenario "${name}"; scenarios: ${SCENARIOS.join(', ')}`);
        args.scenarios.push(name as Scenario);
      }
    } else if (arg === '--transports') args.transports = value().split(',');
    else if (arg === '--out') args.outDir = path.resolve(value());
    else throw new Error(`unknown argument "${arg}"; usage: main.js [--quick] [--scenario ${SCENARIOS.join('|')}] [--transports a,b] [--out dir] [--silent]`);
  }
  if (args.scenarios.length === 0) {
    args.scenarios = args.quick ? [...QUICK_DEFAULT] : [...SCENARIOS];
    if (args.quick) {
      args.notDefault.push({
        what: 'demo scenario',
        why: 'not in --quick by default (2 runs × 5 transports of the real demo take ~2.5 min on this machine); run `node bench/dist/main.js --quick --scenario demo`, or the full run',
      });
    }
  }
  return args;
}

/** Runs the bench and writes its results; resolves with them and the files written. */
export async function runBench(args: BenchArguments): Promise<{ results: BenchResults; files: ReturnType<typeof writeReport> }> {
  const started = Date.now();
  const config = benchConfig(args.quick ? 'quick' : 'full');
  const progress = createProgress({ silent: args.silent });
  const table = benchTransports();
  if (args.transports) {
    for (const name of args.transports) if (!table[name]) throw new Error(`unknown transport "${name}"; transports: ${Object.keys(table).join(', ')}`);
  }
  const pick = (names: string[]) => names.filter((n) => table[n] && (!args.transports || args.transports.includes(n))).map((n) => table[n]);
  const all = Object.keys(table);
  const results: BenchResults = {
    version: 1,
    startedAt: new Date(started).toISOString(),
    mode: config.mode,
    command: `node bench/dist/main.js ${process.argv.slice(2).join(' ')}`.trim(),
    env: {
      node: process.version,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      // Cores this run may use (less than cores under `taskset`): cross-core wake-ups dominate hop latency on some VMs.
      usableCores: os.availableParallelism(),
      grpcJs: (require('@grpc/grpc-js/package.json') as { version: string }).version,
      platform: `${os.platform()} ${os.release()}`,
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    hop: {},
    hopBySize: {},
    throughput: {},
    openLoop: {},
    workflow: {},
    rtt: [],
    sandbox: {},
    demo: {},
    demoRuns: [],
    skipped: [...args.notDefault],
    targets: [],
    durationSec: 0,
  };
  const want = (s: Scenario) => args.scenarios.includes(s);
  if (want('hop')) {
    results.hopBySize = await runHop(pick(all), config, progress);
    results.hop = results.hopBySize['256'] ?? {};
  }
  if (want('throughput')) {
    results.throughput = await runThroughput(pick(all), config, progress);
    results.openLoop = await runOpenLoop(pick(config.openLoop.transports.concat(table.mesh ? ['mesh'] : [])), results.throughput, config, progress);
  }
  if (want('workflow')) results.workflow = await runWorkflow(pick(all.filter((n) => n !== 'rest-nokeepalive')), config, progress);
  if (want('rtt')) results.rtt = await runRtt(pick(config.rtt.transports.concat(table.mesh ? ['mesh'] : [])), config, progress);
  if (want('sandbox')) {
    const sandbox = await runSandbox(config, progress);
    results.sandbox = sandbox.sandbox;
    results.skipped.push(...sandbox.skipped);
  }
  if (want('demo')) {
    const demo = await runDemo(pick(config.demo.transports), config, progress);
    results.demo = demo.demo;
    results.demoRuns = demo.runs;
    results.skipped.push(...demo.skipped);
  }
  progress.done();
  results.targets = evaluateTargets(results);
  results.durationSec = Math.round((Date.now() - started) / 100) / 10;
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const files = writeReport(results, args.outDir, stamp);
  return { results, files };
}

if (require.main === module) {
  let args: BenchArguments;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  runBench(args).then(
    ({ results, files }) => {
      process.stdout.write(`${terminalSummary(results)}\nresults: ${files.json}\nreport: ${files.markdown} (and ${files.latest})\n`);
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`\nbench failed: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
