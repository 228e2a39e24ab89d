/**
 * A userspace TCP proxy that can delay, cut and blackhole connections, because
 * `tc netem` is unavailable here. Tests use it to break streams on purpose; the
 * bench uses it to simulate agents on different hosts.
 *
 * Delay is one-way and per direction: each chunk is held in a FIFO queue until
 * `delay` ms after it arrived, so byte order is preserved. Blackhole behaves
 * like a partition that later heals: connections stay open, nothing is passed
 * (the proxy stops reading, so bytes wait in the senders' buffers as TCP
 * retransmissions would) and new connections are accepted but not connected
 * upstream until `pass()`.
 */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

/** Options of createTcpProxy. */
export interface TcpProxyOptions {
  target: { host: string; port: number };
  /** Port to listen on (default 0: any free port). */
  listenPort?: number;
  /** Address to listen on (default 127.0.0.1). */
  listenHost?: string;
  /** Initial one-way delay in ms (default 0). */
  delayMs?: number;
}

/** Counters of a proxy, for tests and reports. */
export interface TcpProxyStats {
  /** Connections accepted since start. */
  accepted: number;
  /** Connections open now. */
  active: number;
  /** Bytes passed client → target and target → client. */
  bytesToTarget: number;
  bytesToClient: number;
  /** Times cut() was called. */
  cuts: number;
}

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /** Sets the one-way delay (each direction) for bytes arriving from now on. */
  setDelay(oneWayMs: number): void;
  /** Destroys every current connection (both sides); new connections are still accepted. */
  cut(): void;
  /** Accepts and keeps connections, passes nothing until pass(). */
  blackhole(): void;
  /** Passes bytes normally again (after blackhole). */
  pass(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
  readonly stats: Readonly<TcpProxyStats>;
}

type QueueItem = { due: number; chunk: Buffer } | { due: number; end: true };

/** One direction of a connection: a timed FIFO from source to destination. */
class Pipe {
  private readonly queue: QueueItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writeBlocked = false;

  constructor(
    private readonly source: net.Socket,
    private readonly destination: net.Socket,
    private readonly proxy: { delayMs: number; blackholed: boolean },
    private readonly count: (bytes: number) => void,
  ) {
    source.on('data', (chunk: Buffer) => this.enqueue({ due: Date.now() + this.proxy.delayMs, chunk }));
    source.on('end', () => this.enqueue({ due: Date.now() + this.proxy.delayMs, end: true }));
    destination.on('drain', () => {
      this.writeBlocked = false;
      this.updateReading();
    });
  }

  private enqueue(item: QueueItem): void {
    this.queue.push(item);
    this.flush();
  }

  /** Pauses or resumes reading the source from the blackhole and backpressure states. */
  updateReading(): void {
    if (this.proxy.blackholed || this.writeBlocked) this.source.pause();
    else {
      this.source.resume();
      this.flush();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.proxy.blackholed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].due <= now) {
      const item = this.queue.shift()!;
      if (this.destination.destroyed) return;
      if ('end' in item) this.destination.end();
      else {
        this.count(item.chunk.length);
        if (!this.destination.write(item.chunk)) {
          this.writeBlocked = true;
          this.source.pause();
        }
      }
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), Math.max(0, this.queue[0].due - now));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

interface Connection {
  client: net.Socket;
  upstream?: net.Socket;
  pipes: Pipe[];
  connect(): void;
  destroy(): void;
}

/** Starts a proxy to `target`; resolves once it listens. */
export async function createTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const state = { delayMs: options.delayMs ?? 0, blackholed: false };
  const stats: TcpProxyStats = { accepted: 0, active: 0, bytesToTarget: 0, bytesToClient: 0, cuts: 0 };
  const connections = new Set<Connection>();

  const server = net.createServer((client) => {
    stats.accepted++;
    stats.active++;
    client.setNoDelay(true);
    client.pause();
    const connection: Connection = {
      client,
      pipes: [],
      connect() {
        if (connection.upstream || client.destroyed) return;
        const upstream = net.connect({ host: options.target.host, port: options.target.port });
        upstream.setNoDelay(true);
        connection.upstream = upstream;
        connection.pipes = [
          new Pipe(client, upstream, state, (n) => (stats.bytesToTarget += n)),
          new Pipe(upstream, client, state, (n) => (stats.bytesToClient += n)),
        ];
        upstream.on('error', () => connection.destroy());
        upstream.on('close', () => connection.destroy());
        for (const pipe of connection.pipes) pipe.updateReading();
      },
      destroy() {
        if (!connections.delete(connection)) return;
        stats.active--;
        for (const pipe of connection.pipes) pipe.dispose();
        client.destroy();
        connection.upstream?.destroy();
      },
    };
    connections.add(connection);
    client.on('error', () => connection.destroy());
    client.on('close', () => connection.destroy());
    if (!state.blackholed) connection.connect();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, options.listenHost ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    stats,
    setDelay(oneWayMs: number) {
      if (!Number.isFinite(oneWayMs) || oneWayMs < 0) throw new RangeError(`tcp proxy delay must be a non-negative number of ms, got ${oneWayMs}`);
      state.delayMs = oneWayMs;
    },
    cut() {
      stats.cuts++;
      for (const connection of [...connections]) connection.destroy();
    },
    blackhole() {
      state.blackholed = true;
      for (const connection of connections) for (const pipe of connection.pipes) pipe.updateReading();
    },
    pass() {
      state.blackholed = false;
      for (const connection of connections) {
        if (!connection.upstream) connection.connect();
        for (const pipe of connection.pipes) pipe.updateReading();
      }
    },
    close() {
      for (const connection of [...connections]) connection.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
