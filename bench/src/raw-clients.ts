/**
 * The floors the transports are measured against: raw TCP ping-pong with
 * length-prefixed frames, and plain grpc-js bidi ping-pong on one stream (no
 * mesh). Both pipeline concurrent calls on one connection, answered in order.
 */
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';

/** One measurable call shape: send a payload, wait for its echo. */
export interface Caller {
  call(payload: Buffer): Promise<void>;
  close(): Promise<void>;
  /**
   * Frames (messages) and writes (batches) on the wire so far, both directions, when the
   * transport can count them (the mesh: its session counters). Without it, frames/s is
   * derived from the transport's framesPerCall and every frame is its own write.
   */
  wireStats?(): { frames: number; writes: number };
}

/** The raw bidi method, defined by hand: bytes in, bytes out. */
export const rawBidiService: grpc.ServiceDefinition = {
  pingpong: {
    path: '/agentmesh.bench.RawEcho/Pingpong',
    originalName: 'pingpong',
    requestStream: true,
    responseStream: true,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

/** Splits a byte stream into 4-byte-length-prefixed frames. */
export function createFrameReader(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < 4 + length) break;
      onFrame(pending.subarray(4, 4 + length));
      pending = pending.subarray(4 + length);
    }
  };
}

/** Raw TCP ping-pong client (the floor). */
export function connectTcp(address: string): Promise<Caller> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
    const socket = net.connect({ host, port }, () => {
      socket.off('error', reject);
      socket.on('error', (error) => waiting.splice(0).forEach((w) => w.reject(error)));
      resolve({
        call: (payload) =>
          new Promise<void>((res, rej) => {
            waiting.push({ resolve: res, reject: rej });
            const header = Buffer.allocUnsafe(4);
            header.writeUInt32BE(payload.length, 0);
            socket.write(Buffer.concat([header, payload]));
          }),
        close: async () => {
          socket.destroy();
        },
      });
    });
    socket.setNoDelay(true);
    socket.on('error', reject);
    socket.on('data', createFrameReader(() => waiting.shift()?.resolve()));
  });
}

/** Plain grpc-js bidi ping-pong on one long-lived stream, one message per write. */
export async function connectGrpcBidiRaw(address: string): Promise<Caller> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const method = rawBidiService.pingpong;
  const stream = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, new grpc.Metadata(), {});
  stream.on('data', () => waiting.shift()?.resolve());
  stream.on('error', (error: Error) => waiting.splice(0).forEach((w) => w.reject(error)));
  return {
    call: (payload) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        stream.write(payload);
      }),
    close: async () => {
      stream.end();
      stream.cancel();
      client.close();
    },
  };
}

function splitAddress(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index), Number(address.slice(index + 1))];
}
