// Smoke test of `--quick`: a very small run (BENCH_SCALE) in child processes,
// checking the results' shape, never their numbers. The demo scenario is left out
// (it is not in --quick's default set: ~14 s per real demo run); its aggregation is
// checked on canned runs below, and the JSON's demo keys are checked to exist.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const main = path.resolve(__dirname, '..', 'dist', 'main.js');
const latencyShape = { p50Us: expect.any(Number), p90Us: expect.any(Number), p99Us: expect.any(Number), p999Us: expect.any(Number), maxUs: expect.any(Number), samples: expect.any(Number) };

test('a tiny --quick run writes JSON of the documented shape, a report and charts', () => {
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: build the bench first (npx tsc -b bench)`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-quick-'));
  execFileSync(process.execPath, [main, '--quick', '--silent', '--scenario', 'hop,throughput,workflow,rtt,sandbox', '--out', out], {
    env: { ...process.env, BENCH_SCALE: '0.02' },
    timeout: 120_000,
    stdio: 'pipe',
  });
  const json = fs.readdirSync(out).find((f) => f.endsWith('.json'));
  expect(json).toBeDefined();
  const results = JSON.parse(fs.readFileSync(path.join(out, json!), 'utf8'));
  expect(results.env).toEqual(expect.objectContaining({ node: expect.any(String), cpu: expect.any(String), cores: expect.any(Number), grpcJs: expect.any(String) }));
  for (const transport of ['tcp', 'grpc-bidi-raw', 'mesh', 'grpc', 'unary', 'rest', 'rest-nokeepalive']) {
    expect(results.hop[transport]).toEqual(latencyShape);
    expect(results.hop[transport].samples).toBeGreaterThan(0);
    expect(results.throughput[transport].map((p: { concurrency: number }) => p.concurrency)).toEqual([1, 16, 64, 256]);
    for (const point of results.throughput[transport]) {
      expect(point).toEqual(
        expect.objectContaining({ concurrency: expect.any(Number), callsPerSec: expect.any(Number), framesPerSec: expect.any(Number), framesPerCall: expect.any(Number), writesPerCall: expect.any(Number) }),
      );
    }
  }
  expect(results.throughput.mesh[0].framesCounted).toBe(true);
  expect(Object.keys(results.hopBySize).sort()).toEqual(['16384', '256']);
  for (const transport of ['mesh', 'grpc', 'unary', 'rest']) {
    expect(results.workflow[transport]).toEqual(expect.objectContaining({ p50Ms: expect.any(Number), p99Ms: expect.any(Number), firstEventMs: expect.any(Number) }));
  }
  expect(results.rtt.map((p: { oneWayMs: number }) => p.oneWayMs)).toEqual([0, 1, 5]);
  for (const point of results.rtt) expect(point.grpc).toEqual(expect.objectContaining({ p50Ms: expect.any(Number) }));
  const sandboxShape = { coldStartP50Ms: expect.any(Number), rssMb: expect.any(Number), samples: expect.any(Number), memorySource: expect.any(String) };
  for (const kind of ['fresh-isolate', 'pooled-isolate', 'worker-thread', 'node-process']) expect(results.sandbox[kind]).toEqual(expect.objectContaining(sandboxShape));
  for (const kind of ['bubblewrap-node', 'docker']) {
    // measured, or skipped with the reason (no bubblewrap here, no Docker engine)
    if (results.sandbox[kind]) expect(results.sandbox[kind]).toEqual(expect.objectContaining(sandboxShape));
    else expect(results.skipped).toEqual(expect.arrayContaining([expect.objectContaining({ what: `sandbox ${kind}`, why: expect.stringMatching(/skipped/) })]));
  }
  expect(results.demo).toEqual({});
  expect(results.demoRuns).toEqual([]);
  expect(Array.isArray(results.targets)).toBe(true);
  for (const target of results.targets) expect(target).toEqual(expect.objectContaining({ target: expect.any(String), limit: expect.any(String), note: expect.any(String) }));
  expect(results.targets.map((t: { target: string }) => t.target)).toEqual(expect.arrayContaining([expect.stringMatching(/calls\/s/), expect.stringMatching(/frames\/s/), expect.stringMatching(/fresh-isolate/), expect.stringMatching(/pooled-isolate/)]));
  for (const file of ['latest.md', 'latest.json', 'latest-hop.svg', 'latest-throughput.svg', 'latest-rtt.svg', 'latest-sandbox.svg']) expect(fs.existsSync(path.join(out, file))).toBe(true);
  fs.rmSync(out, { recursive: true, force: true });
}, 150_000);

test('the demo scenario is out of --quick by default, and in when named', () => {
  const { parseArguments } = require('../dist/main') as typeof import('../src/main');
  const quick = parseArguments(['--quick']);
  expect(quick.scenarios).not.toContain('demo');
  expect(quick.notDefault).toEqual([expect.objectContaining({ what: 'demo scenario' })]);
  expect(parseArguments(['--quick', '--scenario', 'demo']).scenarios).toEqual(['demo']);
  expect(parseArguments([]).scenarios).toContain('demo');
});

test('demo runs aggregate into per-transport p50s, a transport share and the delta against the mesh', () => {
  const { summarizeDemo } = require('../dist/scenarios/demo') as typeof import('../src/scenarios/demo');
  const run = (transport: string, totalMs: number, ok = true) => ({
    transport, ok, exitCode: ok ? 0 : 1, totalMs, processMs: totalMs + 4000, phasesMs: { probe: 800, implement: 5000 }, calls: 11, retries: 0, firstEventP50Ms: { coder: 1000 },
  });
  const summary = summarizeDemo([run('mesh', 8000), run('rest', 8400), run('mesh', 8200), run('rest', 8600, false)], { mesh: 0.4, rest: 0.5 });
  expect(Object.keys(summary).sort()).toEqual(['mesh', 'rest']);
  expect(summary.mesh).toEqual(expect.objectContaining({ e2eP50Ms: 8100, e2eMinMs: 8000, e2eMaxMs: 8200, calls: 11, transportMs: 4.4, deltaVsMeshMs: 0, runs: 2, passedRuns: 2, samples: 2 }));
  expect(summary.mesh.transportShare).toBeCloseTo(4.4 / 8100, 5);
  expect(summary.rest).toEqual(expect.objectContaining({ e2eP50Ms: 8500, deltaVsMeshMs: 400, passedRuns: 1, runs: 2 }));
  expect(summary.rest.phasesP50Ms).toEqual({ probe: 800, implement: 5000 });
});
