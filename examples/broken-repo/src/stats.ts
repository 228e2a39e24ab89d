// Statistics over ledger entries.
import { average } from './money';
import type { Entry } from './entry';

/** The mean size of the entries in cents. */
export function meanEntry(entries: readonly Entry[]): number {
  return averge(entries.map((entry) => entry.cents));
}
