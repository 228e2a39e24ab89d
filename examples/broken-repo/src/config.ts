// Ledger settings, loaded asynchronously as a real application would from a file or service.

export interface LedgerConfig {
  readonly currency: string;
  readonly title: string;
}

const defaults: LedgerConfig = { currency: 'EUR', title: 'Ledger' };

/** Loads the ledger settings, with overrides on top of the defaults. */
export async function loadConfig(overrides: Partial<LedgerConfig> = {}): Promise<LedgerConfig> {
  await Promise.resolve();
  return { ...defaults, ...overrides };
}
