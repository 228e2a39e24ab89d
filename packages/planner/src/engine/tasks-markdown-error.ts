/** The error of a tasks.md that cannot be read, pointing at the line. */

/** A malformed tasks.md: `line` is 1-based, `reason` says what was wrong. */
export class TasksMarkdownError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
    readonly text: string,
  ) {
    super(`tasks.md line ${line}: ${reason}: ${JSON.stringify(text.trim())}`);
    this.name = 'TasksMarkdownError';
  }
}
