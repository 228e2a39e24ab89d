// Collects a stream's output up to a byte cap and says plainly when, and how much, was dropped.

/** The marker appended to capped output, so a reader (human or model) never mistakes it for the whole. */
export function truncationMarker(stream: string, capBytes: number, droppedBytes: number): string {
  return `\n[agentmesh-sandbox: ${stream} truncated at ${capBytes} bytes; ${droppedBytes} more bytes dropped]\n`;
}

export interface CappedOutput {
  push(chunk: Buffer | string): void;
  readonly truncated: boolean;
  readonly droppedBytes: number;
  /** The kept text, with the truncation marker when anything was dropped. */
  text(): string;
}

/** Creates a byte-capped collector for stdout or stderr of a sandboxed run. */
export function createCappedOutput(stream: string, capBytes: number): CappedOutput {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  return {
    push(chunk) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const room = capBytes - kept;
      if (room <= 0) {
        dropped += buffer.length;
        return;
      }
      const part = buffer.length <= room ? buffer : buffer.subarray(0, room);
      chunks.push(part);
      kept += part.length;
      dropped += buffer.length - part.length;
    },
    get truncated() {
      return dropped > 0;
    },
    get droppedBytes() {
      return dropped;
    },
    text() {
      const body = Buffer.concat(chunks).toString('utf8');
      return dropped > 0 ? body + truncationMarker(stream, capBytes, dropped) : body;
    },
  };
}
