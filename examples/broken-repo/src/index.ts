// The ledger library's public surface.
export { sum, average, formatCents } from './money';
export type { Entry, Sink } from './entry';
export { loadConfig, type LedgerConfig } from './config';
export { balance } from './totals';
export { meanEntry } from './stats';
export { summarize } from './summary';
export { MemorySink } from './memory-sink';
