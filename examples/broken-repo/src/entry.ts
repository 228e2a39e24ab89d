// A ledger entry and the sink interface entries are written to.

export interface Entry {
  readonly description: string;
  readonly cents: number;
}

/** Where formatted ledger lines go. */
export interface Sink {
  write(line: string): void;
  lines(): readonly string[];
  close(): void;
}
