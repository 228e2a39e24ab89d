// Messages between the isolate sandbox (in the caller's process) and its isolate host worker
// process, plus the request and result shapes both sides share.

/** Limits for one isolate run. */
export interface IsolateLimits {
  /** V8 heap limit in MiB (isolated-vm's memoryLimit; at least 8). Soft: hence the separate process. */
  readonly memoryLimitMb: number;
  /** Wall-clock limit, including time spent awaiting capabilities. */
  readonly wallTimeoutMs: number;
  /** CPU time the isolate itself may use. */
  readonly cpuTimeoutMs: number;
  /** Cap for captured console output, per stream. */
  readonly maxOutputBytes: number;
}

export interface IsolateRunRequest {
  /** A script; its completion value is the result, awaited when it is a promise. */
  readonly code: string;
  /** Copied into the isolate as the global `input`. */
  readonly input?: unknown;
  /** Names of the sandbox's capabilities to expose for this run, as `capabilities.<name>(...)`. Default none. */
  readonly capabilities?: readonly string[];
  /** Grant `setTimeout`/`clearTimeout` (backed by the host, bounded by the wall timeout). Default false. */
  readonly timers?: boolean;
  /** Tighter limits for this run; a request may only lower the sandbox's limits. */
  readonly limits?: Partial<IsolateLimits>;
  /** File name shown in stack traces. */
  readonly filename?: string;
}

/**
 * Why a run failed: the script threw (`error`), a limit ended it (`timeout`, `cpu`, `memory`), its result
 * could not be copied out (`result`), it was refused before running, the host died (`crash`), or the caller aborted.
 */
export type IsolateErrorKind = 'error' | 'timeout' | 'cpu' | 'memory' | 'result' | 'refused' | 'crash' | 'aborted';

export interface IsolateRunError {
  readonly kind: IsolateErrorKind;
  readonly message: string;
  readonly stack?: string;
}

export interface IsolateRunResult {
  readonly ok: boolean;
  /** The script's completion value, copied out (only when ok). */
  readonly value?: unknown;
  readonly error?: IsolateRunError;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  /** From request arrival in the host to result; includes isolate creation when not pooled. */
  readonly durationMs: number;
  /** Time to get an isolate ready: a pool take, or creating one. */
  readonly startMs: number;
  readonly cpuMs: number;
  readonly heapUsedBytes: number;
  /** The isolate came from the warm pool. */
  readonly pooled: boolean;
  readonly workerPid: number;
}

export interface HostConfig {
  readonly poolSize: number;
  readonly poolMemoryLimitMb: number;
}

export type ParentToHost =
  | { readonly type: 'run'; readonly id: number; readonly request: IsolateRunRequest; readonly limits: IsolateLimits; readonly usePool: boolean }
  | { readonly type: 'capability-result'; readonly id: number; readonly callId: number; readonly ok: boolean; readonly value?: unknown; readonly message?: string }
  | { readonly type: 'shutdown' };

export type HostToParent =
  | { readonly type: 'ready'; readonly pid: number }
  | { readonly type: 'result'; readonly id: number; readonly result: IsolateRunResult }
  | { readonly type: 'capability-call'; readonly id: number; readonly callId: number; readonly name: string; readonly args: readonly unknown[] }
  | { readonly type: 'catastrophic'; readonly message: string };
