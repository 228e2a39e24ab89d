// The isolate host: a separate process (started with --no-node-snapshot) that owns every isolated-vm
// isolate, so an out-of-memory or catastrophic isolate failure takes down this process, not the
// caller's. It keeps a warm pool of isolates, each used once, and refills it in the background.
import ivm from 'isolated-vm';
import { createCappedOutput, type CappedOutput } from '../capped-output';
import { getSandboxLogger } from '../logger';
import type { HostConfig, HostToParent, IsolateLimits, IsolateRunError, IsolateRunRequest, IsolateRunResult, ParentToHost } from './isolate-protocol';

const logger = getSandboxLogger('isolate-host');

interface Output {
  stdout?: CappedOutput;
  stderr?: CappedOutput;
}

interface Prepared {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly memoryLimitMb: number;
  /** Where the isolate's console writes go; bound to one run when the isolate is taken. */
  readonly output: Output;
  /** Host-held handle to the in-isolate function that settles capability promises; never given to the script. */
  readonly settle: ivm.Reference<(id: number, ok: boolean, value: unknown) => void>;
  /** Host-held handle that installs a run's granted capabilities (and timers) as frozen globals. */
  readonly install: ivm.Reference<(names: string[], timers: boolean) => void>;
  /** Host side of capability calls; bound per run. */
  start: (callId: number, name: string, args: unknown[]) => void;
}

// Runs inside the isolate before any untrusted code: console and the capability plumbing are
// closures over two host callbacks, then the globals that carried them are deleted.
const BOOTSTRAP = `(function (write, start) {
  'use strict';
  const format = (value) => {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return String(value.stack || value);
    try { const text = JSON.stringify(value); return text === undefined ? String(value) : text; } catch { return String(value); }
  };
  const writer = (stream) => (...args) => { write(stream, args.map(format).join(' ') + '\\n'); };
  const console = Object.freeze({ log: writer('stdout'), info: writer('stdout'), debug: writer('stdout'), warn: writer('stderr'), error: writer('stderr') });
  Object.defineProperty(globalThis, 'console', { value: console, writable: false, configurable: false, enumerable: false });
  const pending = new Map();
  let next = 0;
  const call = (name, args) => new Promise((resolve, reject) => {
    const id = ++next;
    pending.set(id, { resolve, reject });
    start(id, name, args);
  });
  globalThis.__agentmesh_install = (names, timers) => {
    const capabilities = Object.create(null);
    for (const name of names) capabilities[name] = (...args) => call(name, args);
    Object.defineProperty(globalThis, 'capabilities', { value: Object.freeze(capabilities), writable: false, configurable: false });
    if (timers) {
      let nextTimer = 0;
      const cleared = new Set();
      globalThis.setTimeout = (fn, ms, ...args) => {
        const id = ++nextTimer;
        call('__sleep', [Number(ms) || 0]).then(() => { if (!cleared.delete(id)) fn(...args); });
        return id;
      };
      globalThis.clearTimeout = (id) => { cleared.add(id); };
    }
  };
  globalThis.__agentmesh_settle = (id, ok, value) => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    if (ok) entry.resolve(value); else entry.reject(new Error(value));
  };
})(__agentmesh_write, __agentmesh_start);
delete globalThis.__agentmesh_write;
delete globalThis.__agentmesh_start;`;

function send(message: HostToParent, written?: () => void): void {
  process.send?.(message, undefined, undefined, () => written?.());
}

function onCatastrophicError(message: string): void {
  // isolated-vm says the process is no longer sound: tell the parent, then die so it can replace us.
  logger.fatal({ message }, 'isolated-vm catastrophic error; exiting');
  send({ type: 'catastrophic', message });
  setTimeout(() => process.exit(70), 50).unref();
}

function prepare(memoryLimitMb: number): Prepared {
  const isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb, onCatastrophicError });
  const context = isolate.createContextSync();
  const output: Output = {};
  const global = context.global;
  const prepared: Prepared = {
    isolate,
    context,
    memoryLimitMb,
    output,
    settle: undefined as unknown as Prepared['settle'],
    install: undefined as unknown as Prepared['install'],
    start: () => undefined,
  };
  global.setSync(
    '__agentmesh_write',
    new ivm.Callback((stream: unknown, text: unknown) => {
      const sink = stream === 'stderr' ? output.stderr : output.stdout;
      sink?.push(String(text));
    }),
  );
  global.setSync('__agentmesh_start', new ivm.Callback((callId: number, name: string, args: unknown[]) => prepared.start(callId, name, args)));
  context.evalSync(BOOTSTRAP);
  (prepared as { settle: Prepared['settle'] }).settle = global.getSync('__agentmesh_settle', { reference: true }) as Prepared['settle'];
  (prepared as { install: Prepared['install'] }).install = global.getSync('__agentmesh_install', { reference: true }) as Prepared['install'];
  global.deleteSync('__agentmesh_settle');
  global.deleteSync('__agentmesh_install');
  return prepared;
}

/** How long the host must be idle before it refills the pool: creation blocks this thread ~1.5 ms per isolate. */
const REFILL_IDLE_MS = 5;

interface Pool {
  take(memoryLimitMb: number): Prepared | undefined;
  /** Schedules a refill for the next idle moment; any run arriving meanwhile postpones it. */
  refillSoon(): void;
  runStarted(): void;
  runEnded(): void;
  drain(): void;
}

function createPool(config: HostConfig): Pool {
  const ready: Prepared[] = [];
  let timer: NodeJS.Timeout | undefined;
  let draining = false;
  let running = 0;
  const refill = async (): Promise<void> => {
    timer = undefined;
    if (draining || running > 0 || ready.length >= config.poolSize) return;
    try {
      const prepared = prepare(config.poolMemoryLimitMb);
      // The first asynchronous task on an isolate starts its thread (~0.5 ms): pay that here, not in a run.
      await prepared.context.eval('0');
      if (draining) prepared.isolate.dispose();
      else ready.push(prepared);
    } catch (error) {
      logger.error({ err: error }, 'could not prepare a pooled isolate');
      return;
    }
    schedule(0);
  };
  const schedule = (delay: number): void => {
    if (draining || ready.length >= config.poolSize) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refill(), delay);
  };
  return {
    take(memoryLimitMb) {
      if (memoryLimitMb !== config.poolMemoryLimitMb) return undefined;
      return ready.shift();
    },
    refillSoon: () => schedule(REFILL_IDLE_MS),
    runStarted() {
      running++;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    runEnded() {
      running--;
      schedule(REFILL_IDLE_MS);
    },
    drain() {
      draining = true;
      if (timer) clearTimeout(timer);
      for (const prepared of ready.splice(0)) prepared.isolate.dispose();
    },
  };
}

const pendingCapabilities = new Map<string, (ok: boolean, value: unknown, message?: string) => void>();

async function run(id: number, request: IsolateRunRequest, limits: IsolateLimits, pool: Pool, usePool: boolean): Promise<IsolateRunResult> {
  const received = performance.now();
  let prepared = usePool ? pool.take(limits.memoryLimitMb) : undefined;
  const pooled = prepared !== undefined;
  prepared ??= prepare(limits.memoryLimitMb);
  const startMs = performance.now() - received;
  const { isolate, context, output } = prepared;
  output.stdout = createCappedOutput('stdout', limits.maxOutputBytes);
  output.stderr = createCappedOutput('stderr', limits.maxOutputBytes);
  let ended: 'timeout' | 'cpu' | undefined;
  const settle = (callId: number, ok: boolean, value: unknown): void => {
    if (isolate.isDisposed) return;
    prepared!.settle.apply(undefined, [callId, ok, value], { arguments: { copy: true } }).catch((error: unknown) => {
      // A value that cannot be copied in becomes a rejection the script can see.
      if (ok && !isolate.isDisposed) settle(callId, false, `capability result could not be copied into the isolate: ${(error as Error).message}`);
    });
  };
  const granted = new Set(request.capabilities ?? []);
  prepared.start = (callId, name, args) => {
    if (name === '__sleep' && request.timers) {
      const delay = Math.max(0, Math.min(Number(args[0]) || 0, limits.wallTimeoutMs));
      setTimeout(() => settle(callId, true, undefined), delay);
      return;
    }
    if (!granted.has(name)) {
      settle(callId, false, `capability ${name} was not granted to this run`);
      return;
    }
    pendingCapabilities.set(`${id}:${callId}`, (ok, value, message) => settle(callId, ok, ok ? value : message));
    send({ type: 'capability-call', id, callId, name, args });
  };

  const wallTimer = setTimeout(() => {
    ended = 'timeout';
    if (!isolate.isDisposed) isolate.dispose();
  }, limits.wallTimeoutMs);
  const cpuTimer = setInterval(() => {
    if (!isolate.isDisposed && Number(isolate.cpuTime) / 1e6 > limits.cpuTimeoutMs) {
      ended = 'cpu';
      isolate.dispose();
    }
  }, Math.max(5, Math.min(50, limits.cpuTimeoutMs / 4)));

  let value: unknown;
  let error: IsolateRunError | undefined;
  let cpuMs = 0;
  let heapUsedBytes = 0;
  try {
    if (request.input !== undefined) context.global.setSync('input', new ivm.ExternalCopy(request.input).copyInto({ release: true }));
    // Synchronous setup avoids thread hops per run; the caller caps code size, so compiling is bounded.
    if (granted.size > 0 || request.timers) prepared.install.applySync(undefined, [[...granted], request.timers === true], { arguments: { copy: true } });
    const script = isolate.compileScriptSync(request.code, { filename: request.filename ?? 'sandbox.js' });
    const reference = await script.run(context, { timeout: limits.wallTimeoutMs, promise: true, reference: true });
    try {
      value = reference.copySync();
    } catch (copyError) {
      throw new ResultCopyError((copyError as Error).message);
    } finally {
      reference.release();
    }
  } catch (caught) {
    error = classify(caught, ended, isolate, limits);
  } finally {
    clearTimeout(wallTimer);
    clearInterval(cpuTimer);
    for (const key of [...pendingCapabilities.keys()]) if (key.startsWith(`${id}:`)) pendingCapabilities.delete(key);
    if (!isolate.isDisposed) {
      cpuMs = Number(isolate.cpuTime) / 1e6;
      try {
        heapUsedBytes = isolate.getHeapStatisticsSync().used_heap_size;
      } catch {
        // disposed meanwhile
      }
      // Disposing takes up to a millisecond: do it after the answer has gone out.
      setImmediate(() => {
        if (!isolate.isDisposed) isolate.dispose();
      });
    }
  }
  return {
    ok: error === undefined,
    ...(error === undefined ? { value } : { error }),
    stdout: output.stdout.text(),
    stderr: output.stderr.text(),
    stdoutTruncated: output.stdout.truncated,
    stderrTruncated: output.stderr.truncated,
    durationMs: performance.now() - received,
    startMs,
    cpuMs,
    heapUsedBytes,
    pooled,
    workerPid: process.pid,
  };
}

/** The script finished but its completion value cannot be copied out (a function, a host-only object). */
class ResultCopyError extends Error {}

function classify(caught: unknown, ended: 'timeout' | 'cpu' | undefined, isolate: ivm.Isolate, limits: IsolateLimits): IsolateRunError {
  const message = caught instanceof Error ? caught.message : String(caught);
  if (ended === 'timeout') return { kind: 'timeout', message: `wall-clock limit of ${limits.wallTimeoutMs} ms reached` };
  if (ended === 'cpu') return { kind: 'cpu', message: `CPU time limit of ${limits.cpuTimeoutMs} ms reached` };
  if (/memory limit/i.test(message) || (isolate.isDisposed && /disposed/i.test(message))) {
    return { kind: 'memory', message: `memory limit of ${limits.memoryLimitMb} MiB reached: ${message}` };
  }
  if (/Script execution timed out/i.test(message)) return { kind: 'timeout', message: `wall-clock limit of ${limits.wallTimeoutMs} ms reached` };
  if (caught instanceof ResultCopyError) {
    return { kind: 'result', message: `the result could not be copied out of the isolate: ${message}` };
  }
  const stack = caught instanceof Error && typeof caught.stack === 'string' ? caught.stack.split('\n').slice(0, 12).join('\n') : undefined;
  return { kind: 'error', message, ...(stack ? { stack } : {}) };
}

function main(): void {
  const config = JSON.parse(process.argv[2] ?? '{}') as HostConfig;
  const pool = createPool(config);
  process.on('message', (message: ParentToHost) => {
    switch (message.type) {
      case 'run':
        pool.runStarted();
        run(message.id, message.request, message.limits, pool, message.usePool).then(
          (result) => {
            // Refill once the answer is on the wire, so creating isolates never delays it.
            send({ type: 'result', id: message.id, result }, () => pool.runEnded());
          },
          (error: unknown) => {
            pool.runEnded();
            logger.error({ err: error }, 'isolate run failed unexpectedly');
          },
        );
        break;
      case 'capability-result': {
        const key = `${message.id}:${message.callId}`;
        const resolve = pendingCapabilities.get(key);
        pendingCapabilities.delete(key);
        resolve?.(message.ok, message.value, message.message);
        break;
      }
      case 'shutdown':
        pool.drain();
        process.disconnect?.();
        break;
    }
  });
  process.on('disconnect', () => {
    pool.drain();
    process.exit(0);
  });
  pool.refillSoon();
  send({ type: 'ready', pid: process.pid });
}

main();
