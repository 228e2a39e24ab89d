/**
 * Checks LOG_LEVEL before any other module loads: some create their pino logger
 * at import, and pino throws a stack trace on an unknown level. A bad value is
 * one clear line and exit code 2, like every other setting.
 */
const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const level = process.env.LOG_LEVEL;
if (level !== undefined && level !== '' && !levels.includes(level)) {
  process.stderr.write(`agentmesh: LOG_LEVEL must be one of ${levels.join(', ')}, got "${level}"\n`);
  process.exit(2);
}
export {};
