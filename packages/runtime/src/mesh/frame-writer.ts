/**
 * Coalesces the frames queued in one turn of the event loop into one gRPC
 * message. A lone frame is flushed in the same turn (setImmediate runs before
 * the loop waits for I/O again), so batching never adds a timer's delay; under
 * load many frames share one write, which is where the mesh's throughput comes from.
 */
import type { Frame, FrameBatch } from '@agentmesh/protocol';

/** Options of a FrameWriter. */
export interface FrameWriterOptions {
  /** Writes one batch; returns false when the underlying stream wants the writer to wait for drain. */
  write(batch: FrameBatch): boolean;
  /** Most frames per batch. */
  maxFramesPerBatch?: number;
  /** Most payload bytes per batch; a larger single frame goes alone. */
  maxBatchBytes?: number;
  /** Called after each batch, for metrics. */
  onBatch?(frames: number, bytes: number): void;
}

/** Estimated wire size of a frame: its payload plus a small header. */
export function frameBytes(frame: Frame): number {
  const kind = frame.kind;
  if (kind?.$case === 'message') return kind.message.payload.length + 24;
  if (kind?.$case === 'open') return kind.open.payload.length + kind.open.method.length + 32;
  if (kind?.$case === 'close') return kind.close.payload.length + kind.close.message.length + 24;
  return 24;
}

/** The coalescing, backpressure-aware writer of one session's frames. */
export class FrameWriter {
  private queue: Frame[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private blocked = false;
  private closed = false;
  private readonly maxFrames: number;
  private readonly maxBytes: number;

  constructor(private readonly options: FrameWriterOptions) {
    this.maxFrames = options.maxFramesPerBatch ?? 256;
    this.maxBytes = options.maxBatchBytes ?? 256 * 1024;
  }

  /** Queues a frame for the next flush in this turn of the event loop. */
  push(frame: Frame): void {
    if (this.closed) return;
    this.queue.push(frame);
    this.queuedBytes += frameBytes(frame);
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Bytes waiting to be written. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** The stream drained: resume writing. */
  drained(): void {
    this.blocked = false;
    this.flush();
  }

  /** Drops what is queued (it is in the replay buffer) and starts afresh on a new stream. */
  reset(): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.blocked = false;
  }

  /** Drops everything queued and stops writing. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
  }

  /** Writes everything queued now, in batches. */
  readonly flush = (): void => {
    this.scheduled = false;
    while (this.queue.length > 0 && !this.blocked && !this.closed) {
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && count < this.maxFrames) {
        const size = frameBytes(this.queue[count]);
        if (count > 0 && bytes + size > this.maxBytes) break;
        bytes += size;
        count++;
      }
      const frames = this.queue.splice(0, count);
      this.queuedBytes -= bytes;
      this.options.onBatch?.(frames.length, bytes);
      if (!this.options.write({ frames })) this.blocked = true;
    }
  };

}
