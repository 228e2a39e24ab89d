// The caller's side of the isolate sandbox: sends runs to an isolate host worker process, answers
// capability calls with the trusted functions it was given, and replaces the worker after a number
// of runs or when it dies (out of memory, catastrophic error), so the caller's process never does.
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { createDecisionRecorder, type DecisionRecorder, type LimitKind } from '../decision-recorder';
import { getSandboxLogger } from '../logger';
import { mergeLimits } from '../merge-limits';
import { builtEntry } from '../package-paths';
import type { HostConfig, HostToParent, IsolateErrorKind, IsolateLimits, IsolateRunRequest, IsolateRunResult, ParentToHost } from './isolate-protocol';

/** A trusted host function exposed to isolates by name; its arguments and result are copied, never shared. */
export type Capability = (...args: never[]) => unknown;

export const DEFAULT_ISOLATE_LIMITS: IsolateLimits = {
  memoryLimitMb: 32,
  wallTimeoutMs: 5_000,
  cpuTimeoutMs: 2_000,
  maxOutputBytes: 64 * 1024,
};

export interface IsolateSandboxOptions {
  /** Trusted functions runs may be granted, by name. */
  readonly capabilities?: Readonly<Record<string, Capability>>;
  /** Default (and ceiling) limits; a run may only lower them. */
  readonly limits?: Partial<IsolateLimits>;
  /** Isolates kept warm in the host; 0 disables the pool. Default 4. */
  readonly poolSize?: number;
  /** Replace the host process after this many runs (bounds leaks from soft memory limits). Default 200. */
  readonly recycleAfterRuns?: number;
  /** Largest script accepted, in bytes. Default 1 MiB. */
  readonly maxCodeBytes?: number;
  readonly decisions?: DecisionRecorder;
  readonly logger?: Logger;
}

export interface IsolateRunOptions {
  /** Skip the warm pool and create a fresh isolate (the bench's "fresh isolate"). */
  readonly fresh?: boolean;
  readonly signal?: AbortSignal;
}

/** A run's result as the caller sees it: the host's result plus the round trip measured here. */
export interface IsolateSandboxResult extends IsolateRunResult {
  /** From the call to the result, measured in the caller's process (includes IPC). */
  readonly roundTripMs: number;
}

export interface IsolateHostStats {
  readonly workerPid: number | undefined;
  readonly workersStarted: number;
  readonly runsOnCurrentWorker: number;
  readonly inFlight: number;
}

export interface IsolateSandbox {
  readonly decisions: DecisionRecorder;
  /** Resolves once the host process is up and its pool has started filling. */
  ready(): Promise<void>;
  /** Runs untrusted code in a fresh, once-used isolate; never throws for the code's own failures. */
  run(request: IsolateRunRequest, options?: IsolateRunOptions): Promise<IsolateSandboxResult>;
  stats(): IsolateHostStats;
  /** Stops the host process; runs in flight end with kind 'crash'. */
  close(): Promise<void>;
}

interface PendingRun {
  readonly request: IsolateRunRequest;
  readonly started: number;
  readonly resolve: (result: IsolateSandboxResult) => void;
  readonly watchdog: NodeJS.Timeout;
}

interface Host {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly pending: Map<number, PendingRun>;
  runs: number;
  retired: boolean;
  catastrophic?: string;
}

/** Extra time the caller waits past a run's wall limit before it declares the host hung and kills it. */
const WATCHDOG_GRACE_MS = 2_000;

/** Creates an isolate sandbox and starts its host process (so the pool is warm by the first run). */
export function createIsolateSandbox(options: IsolateSandboxOptions = {}): IsolateSandbox {
  const logger = options.logger ?? getSandboxLogger('isolate-sandbox');
  const decisions = options.decisions ?? createDecisionRecorder();
  const ceiling: IsolateLimits = { ...DEFAULT_ISOLATE_LIMITS, ...options.limits };
  if (ceiling.memoryLimitMb < 8) throw new Error(`isolate memoryLimitMb must be at least 8 (isolated-vm's minimum); got ${ceiling.memoryLimitMb}`);
  const capabilities = new Map(Object.entries(options.capabilities ?? {}));
  const config: HostConfig = { poolSize: options.poolSize ?? 4, poolMemoryLimitMb: ceiling.memoryLimitMb };
  const recycleAfterRuns = options.recycleAfterRuns ?? 200;
  const maxCodeBytes = options.maxCodeBytes ?? 1024 * 1024;
  const entry = builtEntry('isolate/isolate-host-worker.js');
  let current: Host | undefined;
  const hosts = new Set<Host>();
  let workersStarted = 0;
  let nextId = 0;
  let closed = false;

  function startHost(): Host {
    const child = fork(entry, [JSON.stringify(config)], {
      execArgv: ['--no-node-snapshot'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    workersStarted++;
    let markReady: () => void = () => undefined;
    let markFailed: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    ready.catch(() => undefined);
    const host: Host = { child, ready, pending: new Map(), runs: 0, retired: false };
    hosts.add(host);
    child.on('message', (message: HostToParent) => {
      switch (message.type) {
        case 'ready':
          markReady();
          break;
        case 'result':
          finish(host, message.id, message.result);
          break;
        case 'capability-call':
          void answerCapability(host, message);
          break;
        case 'catastrophic':
          host.catastrophic = message.message;
          logger.error({ pid: child.pid, message: message.message }, 'isolate host reported a catastrophic error; replacing it');
          retire(host);
          break;
      }
    });
    child.on('error', (error) => {
      logger.error({ err: error }, 'isolate host process error');
      markFailed(error);
    });
    child.on('exit', (code, signal) => {
      markFailed(new Error(`isolate host exited before it was ready (code ${String(code)}, signal ${String(signal)})`));
      hosts.delete(host);
      if (current === host) current = undefined;
      const kind = host.catastrophic || signal === 'SIGABRT' || signal === 'SIGTRAP' ? 'memory' : 'crash';
      for (const id of [...host.pending.keys()]) {
        crash(host, id, kind, host.catastrophic
          ? `isolate host died after a catastrophic isolate error (${host.catastrophic}); the host was replaced`
          : `isolate host process ended (code ${String(code)}, signal ${String(signal)}) during the run; it will be replaced`);
      }
      if (!host.retired && !closed) logger.warn({ pid: child.pid, code, signal }, 'isolate host exited unexpectedly; a new one starts on the next run');
    });
    return host;
  }

  function hostForRun(): Host {
    if (current && !current.retired && current.runs < recycleAfterRuns) return current;
    if (current) retire(current);
    current = startHost();
    return current;
  }

  function retire(host: Host): void {
    if (host.retired) return;
    host.retired = true;
    if (current === host) current = undefined;
    if (host.pending.size === 0) stopHost(host);
  }

  function stopHost(host: Host): void {
    if (host.child.exitCode !== null || host.child.signalCode !== null) return;
    if (host.child.connected) host.child.send({ type: 'shutdown' } satisfies ParentToHost);
    const killer = setTimeout(() => host.child.kill('SIGKILL'), 2_000);
    killer.unref();
    host.child.once('exit', () => clearTimeout(killer));
  }

  function finish(host: Host, id: number, result: IsolateRunResult): void {
    const pending = host.pending.get(id);
    if (!pending) return;
    host.pending.delete(id);
    clearTimeout(pending.watchdog);
    const full: IsolateSandboxResult = { ...result, roundTripMs: performance.now() - pending.started };
    record(full);
    pending.resolve(full);
    if (host.retired && host.pending.size === 0) stopHost(host);
  }

  function crash(host: Host, id: number, kind: 'crash' | 'memory' | 'timeout' | 'aborted', message: string): void {
    finish(host, id, failedResult(kind, message, host.child.pid ?? -1));
  }

  function record(result: IsolateSandboxResult): void {
    const subject = 'isolate run';
    const limit: LimitKind | undefined =
      result.error?.kind === 'timeout' ? 'timeout'
      : result.error?.kind === 'cpu' ? 'cpu'
      : result.error?.kind === 'memory' ? 'memory'
      : result.error?.kind === 'crash' ? 'crash'
      : undefined;
    if (limit) decisions.record({ outcome: 'killed', sandbox: 'isolate', subject, limit, reason: result.error!.message, dryRun: false });
  }

  async function answerCapability(host: Host, call: Extract<HostToParent, { type: 'capability-call' }>): Promise<void> {
    const reply = (message: ParentToHost): void => {
      if (host.child.connected) host.child.send(message);
    };
    const pending = host.pending.get(call.id);
    const fn = capabilities.get(call.name);
    if (!pending || !fn || !(pending.request.capabilities ?? []).includes(call.name)) {
      reply({ type: 'capability-result', id: call.id, callId: call.callId, ok: false, message: `capability ${call.name} was not granted to this run` });
      return;
    }
    try {
      const value = await (fn as (...args: unknown[]) => unknown)(...call.args);
      reply({ type: 'capability-result', id: call.id, callId: call.callId, ok: true, value });
    } catch (error) {
      // The script sees only the message: a host stack would leak host internals.
      reply({ type: 'capability-result', id: call.id, callId: call.callId, ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  }

  function refuse(reason: string, rule: 'capability-not-granted' | 'limit-out-of-range' | 'request-invalid'): IsolateSandboxResult {
    decisions.record({ outcome: 'refused', sandbox: 'isolate', subject: 'isolate run', rule, reason, dryRun: false });
    return { ...failedResult('refused', reason, -1), roundTripMs: 0 };
  }

  function limitsFor(request: IsolateRunRequest): IsolateLimits | string {
    const merged = mergeLimits(ceiling, request.limits, 'isolate');
    if (typeof merged !== 'string' && merged.memoryLimitMb < 8) return 'isolate memoryLimitMb must be at least 8';
    return merged;
  }

  // Start now, so the pool is warm before the first run arrives.
  current = startHost();

  return {
    decisions,
    ready: async () => {
      await (current ?? hostForRun()).ready;
    },
    async run(request, runOptions = {}) {
      if (closed) throw new Error('isolate sandbox is closed');
      if (typeof request.code !== 'string') return refuse('request.code must be a string of JavaScript', 'request-invalid');
      if (Buffer.byteLength(request.code) > maxCodeBytes) {
        return refuse(`request.code is ${Buffer.byteLength(request.code)} bytes, above the ${maxCodeBytes}-byte limit`, 'request-invalid');
      }
      const unknown = (request.capabilities ?? []).filter((name) => !capabilities.has(name));
      if (unknown.length > 0) {
        return refuse(`capabilities not offered by this sandbox: ${unknown.join(', ')} (offered: ${[...capabilities.keys()].join(', ') || 'none'})`, 'capability-not-granted');
      }
      const limits = limitsFor(request);
      if (typeof limits === 'string') return refuse(limits, 'limit-out-of-range');
      decisions.record({ outcome: 'allowed', sandbox: 'isolate', subject: 'isolate run', dryRun: false });
      const started = performance.now();
      let host = hostForRun();
      try {
        await host.ready;
      } catch {
        // A host that died while starting is replaced once.
        if (current === host) current = undefined;
        host = hostForRun();
        await host.ready;
      }
      host.runs++;
      const id = ++nextId;
      return new Promise<IsolateSandboxResult>((resolve) => {
        const watchdog = setTimeout(() => {
          logger.error({ pid: host.child.pid }, 'isolate host did not answer within the wall limit; killing it');
          crash(host, id, 'timeout', `wall-clock limit of ${limits.wallTimeoutMs} ms reached and the isolate host stopped answering; it was killed and replaced`);
          retire(host);
          host.child.kill('SIGKILL');
        }, limits.wallTimeoutMs + WATCHDOG_GRACE_MS);
        host.pending.set(id, { request, started, resolve, watchdog });
        // The isolate itself still ends at its own limits; the caller just stops waiting.
        runOptions.signal?.addEventListener('abort', () => crash(host, id, 'aborted', 'the caller aborted the run'), { once: true });
        host.child.send({ type: 'run', id, request, limits, usePool: runOptions.fresh !== true } satisfies ParentToHost);
        if (host.runs >= recycleAfterRuns) retire(host);
      });
    },
    stats() {
      return {
        workerPid: current?.child.pid,
        workersStarted,
        runsOnCurrentWorker: current?.runs ?? 0,
        inFlight: current?.pending.size ?? 0,
      };
    },
    async close() {
      closed = true;
      current = undefined;
      await Promise.all(
        [...hosts].map(
          (host) =>
            new Promise<void>((resolve) => {
              if (host.child.exitCode !== null || host.child.signalCode !== null) return resolve();
              host.child.once('exit', () => resolve());
              host.retired = true;
              host.child.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}

/** A result for a run that never produced one of its own (refused, aborted, or its host died). */
function failedResult(kind: IsolateErrorKind, message: string, workerPid: number): IsolateRunResult {
  return {
    ok: false,
    error: { kind, message },
    stdout: '',
    stderr: '',
    stdoutTruncated: false,
    stderrTruncated: false,
    durationMs: 0,
    startMs: 0,
    cpuMs: 0,
    heapUsedBytes: 0,
    pooled: false,
    workerPid,
  };
}
