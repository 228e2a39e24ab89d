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
  md.push(`\`${results.command}\` — node ${results.env.node}, grpc-js ${results.env.grpcJs}, ${results.env.cores} × ${results.env.cpu}, load average at start ${results.env.loadAverage.join(' / ')}; ${results.durationSec} s.`, '');
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
        ['transport', 'concurrency', 'calls/s', 'frames/s', 'p50 µs', 'p99 µs', 'samples'],
        throughputTransports.flatMap((t) => results.throughput[t].map((p) => [t, p.concurrency, p.callsPerSec, p.framesPerSec, p.p50Us, p.p99Us, p.samples])),
      ),
      '',
    );
    const xs = results.throughput[throughputTransports[0]].map((p) => p.concurrency);
    const chart = writeChart(
      'throughput',
      lineChart('Throughput against concurrency', 'concurrent calls', 'calls/s', xs, throughputTransports.map((t) => ({ name: t, values: xs.map((c) => results.throughput[t].find((p) => p.concurrency === c)?.callsPerSec) }))),
    );
    md.push(`![throughput](${chart})`, '');
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
  md.push('## Targets (issue 6)', '');
  md.push(table(['target', 'ratio', 'limit', 'met', 'note'], results.targets.map((t) => [t.target, t.ratio ?? '—', t.limit, t.met === null ? 'not measured' : t.met ? 'yes' : 'NO', t.note])), '');
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
  return lines.join('\n');
}
