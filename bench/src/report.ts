/**
 * Turns a run's results into what people read: the Markdown report (with its
 * charts beside it), and the summary table printed on the terminal.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BenchResults } from './bench-results';
import { barChart, lineChart } from './charts';

const table = (header: string[], rows: (string | number)[][]) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** The hop table (all payload sizes), shared by the report and the terminal. */
export function hopTable(results: BenchResults): string {
  const rows: (string | number)[][] = [];
  for (const [size, byTransport] of Object.entries(results.hopBySize)) {
    const floor = byTransport.tcp?.p50Us;
    for (const [name, s] of Object.entries(byTransport)) {
      rows.push([name, `${size} B`, s.p50Us, s.p90Us, s.p99Us, s.p999Us, s.maxUs, s.samples, floor ? `${(s.p50Us / floor).toFixed(2)}x` : '']);
    }
  }
  return table(['transport', 'payload', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'samples', 'p50 / tcp'], rows);
}

/** Writes `<stamp>.json`, `<stamp>.md`, `latest.md` and the SVG charts into `dir`; returns the paths. */
export function writeReport(results: BenchResults, dir: string, stamp: string): { json: string; markdown: string; latest: string; charts: string[] } {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${stamp}.json`);
  fs.writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const charts: string[] = [];
  const writeChart = (name: string, svg: string) => {
    const file = path.join(dir, `${stamp}-${name}.svg`);
    fs.writeFileSync(file, svg);
    fs.writeFileSync(path.join(dir, `latest-${name}.svg`), svg);
    charts.push(file);
    return path.basename(file);
  };
  const md: string[] = [];
  md.push(`# agentmesh bench, ${results.startedAt} (${results.mode})`, '');
  md.push(`\`${results.command}\` — node ${results.env.node}, grpc-js ${results.env.grpcJs}, ${results.env.cores} × ${results.env.cpu} (${results.env.usableCores} usable), load average at start ${results.env.loadAverage.join(' / ')}; ${results.durationSec} s.`, '');
  md.push('Every figure comes from this one run; compare ratios, not absolute times (see bench/README.md).', '');

  const hopTransports = Object.keys(results.hop);
  if (hopTransports.length) {
    md.push('## Hop (one request, one response, concurrency 1)', '', hopTable(results), '');
    const chart = writeChart(
      'hop',
      barChart('Hop latency, 256 B', 'µs', hopTransports, [
        { name: 'p50', values: hopTransports.map((t) => results.hop[t].p50Us) },
        { name: 'p99', values: hopTransports.map((t) => results.hop[t].p99Us) },
      ]),
    );
    md.push(`![hop latency](${chart})`, '');
  }
  const throughputTransports = Object.keys(results.throughput);
  if (throughputTransports.length) {
    md.push('## Throughput, closed loop (256 B, one connection)', '');
    md.push(
      table(
        ['transport', 'concurrency', 'calls/s', 'frames/s', 'frames per call', 'writes per call', 'p50 µs', 'p99 µs', 'samples'],
        throughputTransports.flatMap((t) =>
          results.throughput[t].map((p) => [t, p.concurrency, p.callsPerSec, p.framesPerSec, `${p.framesPerCall}${p.framesCounted ? '' : ' (assumed)'}`, p.writesPerCall, p.p50Us, p.p99Us, p.samples]),
        ),
      ),
      '',
    );
    const xs = results.throughput[throughputTransports[0]].map((p) => p.concurrency);
    const chart = writeChart(
      'throughput',
      lineChart('Throughput against concurrency', 'concurrent calls', 'calls/s', xs, throughputTransports.map((t) => ({ name: t, values: xs.map((c) => results.throughput[t].find((p) => p.concurrency === c)?.callsPerSec) }))),
    );
    md.push(`![throughput](${chart})`, '');
    md.push('frames/s counts messages on the wire, both directions: the mesh session counts its own frames (header, data, trailer and flow-control frames, sent in batches: "writes"); for the other transports it is 2 per call (request + response), one message per write.', '');
  }
  const open = Object.entries(results.openLoop);
  if (open.length) {
    md.push('## Open loop (latency from intended send time: coordinated omission corrected)', '');
    md.push(
      table(
        ['transport', 'target calls/s', 'achieved calls/s', 'shed', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'samples'],
        open.flatMap(([t, points]) => points.map((p) => [t, p.targetRate, p.achievedRate, p.shed, p.p50Us, p.p99Us, p.p999Us, p.maxUs, p.samples])),
      ),
      '',
    );
  }
  const workflow = Object.entries(results.workflow);
  if (workflow.length) {
    md.push('## Chatty workflow (synthetic, zero think time)', '');
    md.push(table(['transport', 'p50 ms', 'p99 ms', 'first event ms', 'calls per workflow', 'samples'], workflow.map(([t, w]) => [t, w.p50Ms, w.p99Ms, w.firstEventMs, w.callsPerWorkflow, w.samples])), '');
  }
  if (results.rtt.length) {
    const names = [...new Set(results.rtt.flatMap((p) => Object.keys(p).filter((k) => k !== 'oneWayMs')))];
    md.push('## Workflow through the delaying proxy', '');
    md.push(
      table(
        ['one-way ms', ...names.map((n) => `${n} p50 ms (samples)`)],
        results.rtt.map((p) => [p.oneWayMs, ...names.map((n) => {
          const v = p[n] as { p50Ms: number; samples: number } | undefined;
          return v ? `${v.p50Ms} (${v.samples})` : '';
        })]),
      ),
      '',
    );
    const xs = results.rtt.map((p) => p.oneWayMs);
    const chart = writeChart('rtt', lineChart('Workflow p50 against one-way delay', 'one-way delay, ms', 'ms', xs, names.map((n) => ({ name: n, values: results.rtt.map((p) => (p[n] as { p50Ms: number } | undefined)?.p50Ms) }))));
    md.push(`![workflow against rtt](${chart})`, '');
  }
  const sandboxKinds = Object.keys(results.sandbox);
  if (sandboxKinds.length) {
    md.push('## Sandbox cold start (a trivial task, from asking to having its result)', '');
    md.push(sandboxTable(results), '');
    md.push('Memory is what each kind can attribute to the task: V8 heap used for isolates and worker threads, peak RSS of the child for processes (see memorySource in the JSON).', '');
    const chart = writeChart('sandbox', barChart('Sandbox cold start p50', 'ms', sandboxKinds, [{ name: 'cold start p50', values: sandboxKinds.map((k) => results.sandbox[k].coldStartP50Ms) }, { name: 'p90', values: sandboxKinds.map((k) => results.sandbox[k].coldStartP90Ms) }]));
    md.push(`![sandbox cold starts](${chart})`, '');
  }
  if (Object.keys(results.demo).length) {
    md.push('## Demo end to end (the real workflow: conductor + 3 agent processes on a fresh copy of examples/broken-repo)', '');
    md.push(demoTable(results), '');
    md.push(
      'end to end = the conductor\'s run (metrics.totalMs of `demo --json`); process = spawn to exit (agent start-up, the run, the final check of the copy). ' +
        'transport ms = (synthetic workflow p50 / its calls, measured on that transport in this scenario) × the calls the demo placed; share = transport ms / end to end. ' +
        'An estimate that errs high (parallel calls overlap). The rest is the agents\' own work: type checks and tests under bubblewrap.',
      '',
    );
  }
  md.push('## Targets', '');
  md.push(targetsTable(results), '');
  if (results.skipped.length) {
    md.push('## Not measured in this run', '');
    for (const s of results.skipped) md.push(`- ${s.what}: ${s.why}`);
    md.push('');
  }
  const markdown = path.join(dir, `${stamp}.md`);
  fs.writeFileSync(markdown, md.join('\n'));
  const latest = path.join(dir, 'latest.md');
  fs.writeFileSync(latest, md.join('\n').replace(new RegExp(`${stamp}-`, 'g'), 'latest-'));
  return { json, markdown, latest, charts };
}

const targetsTable = (results: BenchResults) =>
  table(
    ['target', 'ratio', 'limit', 'met', 'note'],
    results.targets.map((t) => [t.target, t.ratio ?? '—', t.limit, t.informational ? 'info' : t.met === null ? 'not measured' : t.met ? 'yes' : 'NO', t.note]),
  );

/** The sandbox table, shared by the report and the terminal. */
export function sandboxTable(results: BenchResults): string {
  const bwrap = results.sandbox['bubblewrap-node']?.coldStartP50Ms;
  const rows: (string | number)[][] = Object.entries(results.sandbox).map(([kind, s]) => [kind, s.coldStartP50Ms, s.coldStartP90Ms, s.coldStartMaxMs, s.rssMb, s.cpuMs ?? '', s.samples, bwrap ? `${(bwrap / s.coldStartP50Ms).toFixed(1)}x` : '']);
  for (const s of results.skipped) if (s.what.startsWith('sandbox ')) rows.push([s.what.slice('sandbox '.length), s.why.replace(/\|/g, '/'), '', '', '', '', 0, '']);
  return table(['kind', 'cold start p50 ms', 'p90 ms', 'max ms', 'memory MiB', 'cpu ms', 'samples', 'bubblewrap / this'], rows);
}

/** The demo table, shared by the report and the terminal. */
export function demoTable(results: BenchResults): string {
  return table(
    ['transport', 'end to end p50 ms', 'min–max ms', 'vs mesh ms', 'process p50 ms', 'calls', 'transport ms (est.)', 'transport share', 'passed/runs'],
    Object.entries(results.demo).map(([t, d]) => [
      t,
      d.e2eP50Ms,
      `${d.e2eMinMs}–${d.e2eMaxMs}`,
      d.deltaVsMeshMs === undefined ? '' : `${d.deltaVsMeshMs >= 0 ? '+' : ''}${d.deltaVsMeshMs}`,
      d.processP50Ms,
      d.calls,
      d.transportMs,
      `${(d.transportShare * 100).toFixed(2)} %`,
      `${d.passedRuns}/${d.runs}`,
    ]),
  );
}

/** The summary printed on the terminal at the end of a run. */
export function terminalSummary(results: BenchResults): string {
  const lines: string[] = [];
  if (Object.keys(results.hopBySize).length) lines.push('Hop latency (concurrency 1):', hopTable(results), '');
  const t = Object.entries(results.throughput);
  if (t.length) {
    lines.push('Closed-loop calls/s by concurrency:');
    lines.push(table(['transport', ...t[0][1].map((p) => `c=${p.concurrency}`)], t.map(([name, points]) => [name, ...points.map((p) => p.callsPerSec)])), '');
  }
  const w = Object.entries(results.workflow);
  if (w.length) lines.push('Workflow:', table(['transport', 'p50 ms', 'p99 ms', 'samples'], w.map(([n, s]) => [n, s.p50Ms, s.p99Ms, s.samples])), '');
  if (Object.keys(results.sandbox).length) lines.push('Sandbox cold start:', sandboxTable(results), '');
  if (Object.keys(results.demo).length) lines.push('Demo end to end (transport ms and share are estimates; see bench/README.md):', demoTable(results), '');
  if (results.targets.length) lines.push('Targets:', targetsTable(results), '');
  if (results.skipped.length) lines.push('Not measured:', ...results.skipped.map((s) => `- ${s.what}: ${s.why}`), '');
  lines.push(`duration: ${results.durationSec} s`);
  return lines.join('\n');
}
