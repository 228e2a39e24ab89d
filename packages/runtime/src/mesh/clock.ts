/**
 * Time and randomness, injectable, so heartbeat, backoff and resume-window
 * logic can be tested quickly and deterministically.
 */

/** What the mesh asks of time. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1), for jitter. */
  random(): number;
  /** Monotonic milliseconds with sub-millisecond precision, for round-trip times; now() when absent. */
  precise?(): number;
}

/** The real clock; its timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  random: () => Math.random(),
  precise: () => performance.now(),
};

/** Reconnect backoff settings. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Fraction of the delay randomised either way (0.2 = ±20%). */
  jitter: number;
}

/** Defaults: fast first retry, capped at one second, ±20% jitter so peers do not reconnect in lockstep. */
export const defaultBackoff: BackoffOptions = { initialMs: 20, maxMs: 1000, multiplier: 2, jitter: 0.2 };

/** The delay before reconnect attempt `attempt` (0-based): exponential, capped, jittered. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const base = Math.min(options.maxMs, options.initialMs * Math.pow(options.multiplier, attempt));
  const spread = base * options.jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * random()));
}
