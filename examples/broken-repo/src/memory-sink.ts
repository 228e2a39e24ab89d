// A sink that keeps its lines in memory, for tests and previews.
import type { Sink } from './entry';

/** Keeps every written line in order. */
export class MemorySink implements Sink {
  private readonly written: string[] = [];

  write(line: string): void {
    this.written.push(line);
  }

  lines(): readonly string[] {
    return this.written;
  }
}
