/**
 * The one error type that crosses the wire. Every failure a caller sees is a
 * MeshError with a closed code, so retries and reports can reason about it.
 */
import { Code, codeName } from './code';

const marker = Symbol.for('agentmesh.MeshError');

/** A typed error detail: a type name and an encoded message, like google.protobuf.Any. */
export interface ErrorDetail {
  type: string;
  value: Uint8Array;
}

/** Options of a MeshError beyond its code and message. */
export interface MeshErrorOptions {
  details?: ErrorDetail[];
  metadata?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error with a gRPC status code. Its message reads "[code] text"; the text
 * alone is `rawMessage`. `instanceof` works across realms and package copies.
 */
export class MeshError extends Error {
  readonly code: Code;
  readonly rawMessage: string;
  readonly details: ErrorDetail[];
  /** Trailers that came with the error. */
  readonly metadata: Record<string, string>;

  constructor(code: Code, message: string, options: MeshErrorOptions = {}) {
    super(`[${codeName(code).toLowerCase().replace(/_/g, ' ')}] ${message}`, { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.rawMessage = message;
    this.details = options.details ?? [];
    this.metadata = options.metadata ?? {};
    Object.defineProperty(this, marker, { value: true });
  }

  /** True for any MeshError, even one made by another copy of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /**
   * Turns anything thrown into a MeshError. A MeshError passes through; an
   * AbortError becomes CANCELLED; anything else becomes `fallback` (UNKNOWN by
   * default) with the original kept as `cause`.
   */
  static from(reason: unknown, fallback: Code = Code.UNKNOWN): MeshError {
    if (reason instanceof MeshError) return reason;
    if (isAbortError(reason)) return new MeshError(Code.CANCELLED, messageOf(reason) || 'the operation was aborted', { cause: reason });
    if (isTimeoutError(reason)) return new MeshError(Code.DEADLINE_EXCEEDED, messageOf(reason) || 'the operation timed out', { cause: reason });
    return new MeshError(fallback, messageOf(reason) || String(reason), { cause: reason });
  }
}

function messageOf(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return '';
}

/** True for the error an AbortSignal raises when it is aborted without a reason. */
export function isAbortError(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'AbortError';
}

/** True for the error AbortSignal.timeout() raises. */
export function isTimeoutError(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}
