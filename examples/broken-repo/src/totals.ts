// Totals over ledger entries.
import type { Entry } from './entry';

/** The balance of the entries in cents. */
export function balance(entries: readonly Entry[]): number {
  return sum(entries.map((entry) => entry.cents));
}
