// The one-line summary a ledger prints at the end.
import { loadConfig, type LedgerConfig } from './config';
import { formatCents, sum } from './money';
import type { Entry } from './entry';

/** "Ledger: 3 entries, 12.34 EUR" in the configured currency and title. */
export async function summarize(entries: readonly Entry[], overrides: Partial<LedgerConfig> = {}): Promise<string> {
  const config = loadConfig(overrides);
  const total = formatCents(sum(entries.map((entry) => entry.cents)), config.currency);
  return `${config.title}: ${entries.length} entries, ${total}`;
}
