// Smoke test of `--quick`: a very small run (BENCH_SCALE) in child processes,
// checking the results' shape, never their numbers.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const main = path.resolve(__dirname, '..', 'dist', 'main.js');
const latencyShape = { p50Us: expect.any(Number), p90Us: expect.any(Number), p99Us: expect.any(Number), p999Us: expect.any(Number), maxUs: expect.any(Number), samples: expect.any(Number) };

test('a tiny --quick run writes JSON of the documented shape, a report and charts', () => {
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: build the bench first (npx tsc -b bench)`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-quick-'));
  execFileSync(process.execPath, [main, '--quick', '--silent', '--out', out], {
    env: { ...process.env, BENCH_SCALE: '0.02' },
    timeout: 120_000,
    stdio: 'pipe',
  });
  const json = fs.readdirSync(out).find((f) => f.endsWith('.json'));
  expect(json).toBeDefined();
  const results = JSON.parse(fs.readFileSync(path.join(out, json!), 'utf8'));
  expect(results.env).toEqual(expect.objectContaining({ node: expect.any(String), cpu: expect.any(String), cores: expect.any(Number), grpcJs: expect.any(String) }));
  for (const transport of ['tcp', 'grpc-bidi-raw', 'grpc', 'unary', 'rest', 'rest-nokeepalive']) {
    expect(results.hop[transport]).toEqual(latencyShape);
    expect(results.hop[transport].samples).toBeGreaterThan(0);
    expect(results.throughput[transport].map((p: { concurrency: number }) => p.concurrency)).toEqual([1, 16, 64, 256]);
    for (const point of results.throughput[transport]) {
      expect(point).toEqual(expect.objectContaining({ concurrency: expect.any(Number), callsPerSec: expect.any(Number), framesPerSec: expect.any(Number) }));
    }
  }
  expect(Object.keys(results.hopBySize).sort()).toEqual(['16384', '256']);
  for (const transport of ['grpc', 'unary', 'rest']) {
    expect(results.workflow[transport]).toEqual(expect.objectContaining({ p50Ms: expect.any(Number), p99Ms: expect.any(Number), firstEventMs: expect.any(Number) }));
  }
  expect(results.rtt.map((p: { oneWayMs: number }) => p.oneWayMs)).toEqual([0, 1, 5]);
  for (const point of results.rtt) expect(point.grpc).toEqual(expect.objectContaining({ p50Ms: expect.any(Number) }));
  expect(results.sandbox).toEqual(expect.any(Object));
  expect(Array.isArray(results.targets)).toBe(true);
  expect(fs.existsSync(path.join(out, 'latest.md'))).toBe(true);
  expect(fs.readdirSync(out).filter((f) => f.endsWith('.svg')).length).toBeGreaterThanOrEqual(3);
  fs.rmSync(out, { recursive: true, force: true });
}, 150_000);
