/**
 * The logger of a one-shot command (run, demo): JSON on stderr at `warn` unless LOG_LEVEL
 * says otherwise, so the report on stdout is never interleaved with service logs.
 */
import pino, { type Logger } from 'pino';

/** Creates a command's logger. */
export function createCommandLogger(name: string): Logger {
  return pino({ name, level: process.env.LOG_LEVEL || 'warn' }, pino.destination(2));
}
