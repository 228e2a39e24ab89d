/**
 * The live progress line on stderr: one `\r`-rewritten line on a TTY, plain
 * lines at most every few seconds otherwise (CI logs stay readable).
 */

/** A progress reporter. */
export interface Progress {
  /** Shows the current step; cheap to call often. */
  update(text: string): void;
  /** Ends the line (TTY) so the next output starts clean. */
  done(): void;
}

/** Options of createProgress. */
export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Minimum ms between plain lines when not a TTY (default 2000). */
  plainIntervalMs?: number;
  /** Print nothing (tests). */
  silent?: boolean;
}

/** Creates the progress line for a bench run. */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const interval = options.plainIntervalMs ?? 2000;
  const started = Date.now();
  let lastPlain = 0;
  let lastText = '';
  let lastTty = 0;
  return {
    update(text) {
      if (options.silent) return;
      const line = `[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`;
      const now = Date.now();
      if (tty) {
        if (now - lastTty < 100 && text === lastText) return;
        lastTty = now;
        const width = stream.columns ?? 100;
        stream.write(`\r${line.slice(0, width - 1).padEnd(width - 1)}`);
      } else if (now - lastPlain >= interval || text.split(':')[0] !== lastText.split(':')[0]) {
        lastPlain = now;
        stream.write(`${line}\n`);
      }
      lastText = text;
    },
    done() {
      if (!options.silent && tty) stream.write('\n');
    },
  };
}
