// The package's pino logger: one root logger, child loggers per component, level from LOG_LEVEL.
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

let root: Logger | undefined;

/** Gives library code a pino logger without each module deciding its own level or destination. */
export function getSandboxLogger(component: string): Logger {
  root ??= pino({ name: 'agentmesh-sandbox', level: process.env.LOG_LEVEL ?? 'info' });
  return root.child({ component });
}
