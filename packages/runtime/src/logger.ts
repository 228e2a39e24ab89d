/**
 * The default pino logger of agentmesh services: JSON to stdout, level from
 * LOG_LEVEL. Libraries take a logger option and fall back to this one.
 */
import pino, { type Logger } from 'pino';

/** Creates a service logger named after the component. */
export function createLogger(name: string, options: pino.LoggerOptions = {}): Logger {
  return pino({ name, level: process.env.LOG_LEVEL || 'info', ...options });
}
