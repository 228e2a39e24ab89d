// The isolate sandbox's half of the attack battery: escapes find nothing, limits end runs with a
// structured kind, capabilities copy values across, and a dying host never takes the caller with it.
import { createDecisionRecorder, createIsolateSandbox, type IsolateSandbox } from '@agentmesh/sandbox';

let sandbox: IsolateSandbox;
const secrets = { token: 'host-secret' };

beforeAll(async () => {
  sandbox = createIsolateSandbox({
    poolSize: 2,
    limits: { wallTimeoutMs: 2_000, cpuTimeoutMs: 1_000 },
    capabilities: {
      add: (a: number, b: number) => a + b,
      readConfig: async () => ({ name: 'demo', nested: { list: [1, 2] } }),
      leakHost: () => secrets,
      fail: () => {
        throw new Error('capability failed on purpose');
      },
      returnFunction: () => () => secrets,
    },
  });
  await sandbox.ready();
});
afterAll(() => sandbox.close());

describe('nothing of the host is reachable', () => {
  test.each([
    ['typeof process', 'undefined'],
    ['typeof require', 'undefined'],
    ['typeof fetch', 'undefined'],
    ['typeof setTimeout', 'undefined'],
    ['typeof setInterval', 'undefined'],
    ['typeof queueMicrotask === "function" || typeof queueMicrotask', 'undefined'],
    ['typeof module', 'undefined'],
    ['typeof globalThis.global', 'undefined'],
    ['typeof Buffer', 'undefined'],
    ['typeof WebSocket', 'undefined'],
    ['typeof XMLHttpRequest', 'undefined'],
    ['typeof capabilities', 'undefined'],
    ['typeof input', 'undefined'],
  ])('%s → %s', async (code, expected) => {
    const result = await sandbox.run({ code });
    expect(result).toMatchObject({ ok: true, value: expected });
  });

  test('constructor-chain escapes reach only the isolate', async () => {
    const code = `[
      this.constructor.constructor('return typeof process')(),
      (function () {}).constructor('return typeof require')(),
      (async function () {}).constructor.constructor('return typeof process')(),
      Object.getPrototypeOf(function* () {}).constructor('return typeof process')().next().value,
      console.log.constructor('return typeof process')(),
      Object.getOwnPropertyNames(globalThis).filter((name) => name.startsWith('__agentmesh')).length,
    ]`;
    const result = await sandbox.run({ code });
    expect(result.value).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 0]);
  });

  test('the console binding leaks nothing of the host', async () => {
    const result = await sandbox.run({
      code: `[typeof console.log.constructor('return this')().process, String(console.log).includes('native') ? 'native' : 'isolate', Object.isFrozen(console)]`,
    });
    expect(result.value).toEqual(['undefined', 'isolate', true]);
  });

  test('capabilities hand over copies, not host objects or references', async () => {
    const result = await sandbox.run({
      capabilities: ['leakHost'],
      code: `(async () => {
        const leaked = await capabilities.leakHost();
        leaked.token = 'changed inside';
        return [leaked.token, leaked.constructor.constructor('return typeof process')(), Object.isFrozen(capabilities)];
      })()`,
    });
    expect(result.value).toEqual(['changed inside', 'undefined', true]);
    expect(secrets.token).toBe('host-secret');
  });

  test('a capability result that cannot be copied becomes a rejection, not a leak', async () => {
    const result = await sandbox.run({
      capabilities: ['returnFunction'],
      code: `(async () => { try { const f = await capabilities.returnFunction(); return typeof f; } catch (e) { return 'rejected: ' + e.message; } })()`,
    });
    expect(result.ok).toBe(true);
    expect(String(result.value)).toMatch(/^rejected/);
  });

  test('arguments that cannot be copied (functions) throw inside the isolate', async () => {
    const result = await sandbox.run({ capabilities: ['add'], code: `capabilities.add(() => 1, 2)` });
    expect(result.ok).toBe(false);
    expect(result.error?.kind).toBe('error');
    expect(result.error?.message).toMatch(/could not be cloned/);
  });

  test('capabilities not granted for the run are absent, and unknown names are refused', async () => {
    expect((await sandbox.run({ code: 'typeof capabilities' })).value).toBe('undefined');
    const granted = await sandbox.run({ capabilities: ['add'], code: 'Object.keys(capabilities)' });
    expect(granted.value).toEqual(['add']);
    const refused = await sandbox.run({ capabilities: ['fs'], code: '1' });
    expect(refused).toMatchObject({ ok: false, error: { kind: 'refused' } });
    expect(refused.error?.message).toMatch(/not offered by this sandbox: fs/);
  });
});

describe('capabilities, input, output', () => {
  test('sync and async capabilities return copied values; thrown errors come back as messages', async () => {
    const result = await sandbox.run({
      capabilities: ['add', 'readConfig', 'fail'],
      code: `(async () => {
        const sum = await capabilities.add(input.a, 3);
        const config = await capabilities.readConfig();
        let failure;
        try { await capabilities.fail(); } catch (e) { failure = e.message; }
        return { sum, config, failure };
      })()`,
      input: { a: 4 },
    });
    expect(result).toMatchObject({ ok: true, value: { sum: 7, config: { name: 'demo', nested: { list: [1, 2] } }, failure: 'capability failed on purpose' } });
  });

  test('console output is captured per stream', async () => {
    const result = await sandbox.run({ code: 'console.log("out", 1, { a: 1 }); console.error("err"); 42' });
    expect(result).toMatchObject({ ok: true, value: 42, stdout: 'out 1 {"a":1}\n', stderr: 'err\n' });
  });

  test('timers only when granted', async () => {
    const result = await sandbox.run({ timers: true, code: '(async () => { await new Promise((r) => setTimeout(r, 10)); return "slept"; })()' });
    expect(result).toMatchObject({ ok: true, value: 'slept' });
  });

  test('a thrown error is reported with kind "error"', async () => {
    const result = await sandbox.run({ code: 'throw new TypeError("bad input")' });
    expect(result).toMatchObject({ ok: false, error: { kind: 'error' } });
    expect(result.error?.message).toMatch(/bad input/);
  });
});

describe('limits', () => {
  test('an infinite loop ends with kind "cpu"', async () => {
    const result = await sandbox.run({ code: 'for (;;) {}', limits: { cpuTimeoutMs: 100 } });
    expect(result).toMatchObject({ ok: false, error: { kind: 'cpu' } });
  });

  test('a promise that never settles ends with kind "timeout"', async () => {
    const result = await sandbox.run({ code: 'new Promise(() => {})', limits: { wallTimeoutMs: 150 } });
    expect(result).toMatchObject({ ok: false, error: { kind: 'timeout' } });
  });

  test('a huge allocation ends with kind "memory" and the host survives', async () => {
    const result = await sandbox.run({ code: 'const keep = []; for (;;) keep.push(new Array(1e5).fill(1.5));', limits: { memoryLimitMb: 16 } });
    expect(result).toMatchObject({ ok: false, error: { kind: 'memory' } });
    expect((await sandbox.run({ code: '"still alive"' })).value).toBe('still alive');
  });

  test('an output flood is capped with a truncation marker', async () => {
    const result = await sandbox.run({ code: 'for (;;) console.log("x".repeat(1000))', limits: { wallTimeoutMs: 200, maxOutputBytes: 4096 } });
    expect(result.error?.kind).toMatch(/timeout|cpu/);
    expect(result.stdoutTruncated).toBe(true);
    expect(result.stdout).toMatch(/\[agentmesh-sandbox: stdout truncated at 4096 bytes; \d+ more bytes dropped\]/);
  });

  test('limits above the ceiling are refused', async () => {
    const result = await sandbox.run({ code: '1', limits: { memoryLimitMb: 4096 } });
    expect(result).toMatchObject({ ok: false, error: { kind: 'refused' } });
  });

  test('results that cannot be copied out end with kind "result"', async () => {
    expect(await sandbox.run({ code: '(() => 1)' })).toMatchObject({ ok: false, error: { kind: 'result' } });
  });
});

describe('pool and host process', () => {
  test('runs use warm pooled isolates once each, and fresh ones on request', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const pooled = await sandbox.run({ code: 'globalThis.marker = 1; typeof marker' });
    expect(pooled.pooled).toBe(true);
    const next = await sandbox.run({ code: 'typeof marker' });
    expect(next.value).toBe('undefined');
    const fresh = await sandbox.run({ code: '1' }, { fresh: true });
    expect(fresh.pooled).toBe(false);
  });

  test('isolates run in a separate host process', async () => {
    const result = await sandbox.run({ code: '1' });
    expect(result.workerPid).not.toBe(process.pid);
    expect(result.workerPid).toBe(sandbox.stats().workerPid);
  });

  test('the host is recycled after N runs', async () => {
    const local = createIsolateSandbox({ poolSize: 1, recycleAfterRuns: 2 });
    try {
      const pids = [];
      for (let i = 0; i < 5; i++) pids.push((await local.run({ code: '1' })).workerPid);
      expect(new Set(pids).size).toBe(3);
      expect(local.stats().workersStarted).toBeGreaterThanOrEqual(3);
    } finally {
      await local.close();
    }
  });

  test('a host that dies mid-run yields kind "crash", is counted, and is replaced', async () => {
    const decisions = createDecisionRecorder();
    const local = createIsolateSandbox({ poolSize: 1, decisions });
    try {
      await local.ready();
      const pid = local.stats().workerPid!;
      const running = local.run({ code: 'for (;;) {}' });
      setTimeout(() => process.kill(pid, 'SIGKILL'), 100);
      const result = await running;
      expect(result).toMatchObject({ ok: false, error: { kind: 'crash' } });
      const after = await local.run({ code: '"recovered"' });
      expect(after.value).toBe('recovered');
      expect(after.workerPid).not.toBe(pid);
      expect(decisions.snapshot().killedByLimit.crash).toBe(1);
    } finally {
      await local.close();
    }
  });

  test('concurrent runs do not see each other', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => sandbox.run({ code: `globalThis.mine = ${i}; Object.keys(globalThis).filter((k) => k === 'mine').length + ':' + mine` })),
    );
    expect(results.map((result) => result.value)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `1:${i}`));
  });

  test('decisions are counted for the isolate sandbox', () => {
    const counts = sandbox.decisions.snapshot();
    expect(counts.allowed).toBeGreaterThan(10);
    expect(counts.killedByLimit).toMatchObject({ cpu: expect.any(Number), timeout: expect.any(Number), memory: expect.any(Number) });
    expect(counts.refusedByRule['capability-not-granted']).toBeGreaterThanOrEqual(1);
  });
});
