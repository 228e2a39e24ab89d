// The TCP proxy over real loopback sockets: pass-through, ordered delay, cut,
// blackhole and pass again.
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createTcpProxy, type TcpProxy } from '@agentmesh/runtime/testing';

let echo: net.Server;
let echoPort: number;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  echo = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => echo.close(resolve));
});

let proxy: TcpProxy;
beforeEach(async () => {
  proxy = await createTcpProxy({ target: { host: '127.0.0.1', port: echoPort } });
});
afterEach(() => proxy.close());

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
  });
}

function readBytes(socket: net.Socket, count: number, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`read ${size} of ${count} bytes before the timeout`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= count) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
  });
}

test('passes bytes both ways and counts them', async () => {
  const socket = await connect(proxy.port);
  socket.write('hello');
  expect((await readBytes(socket, 5)).toString()).toBe('hello');
  expect(proxy.stats).toMatchObject({ accepted: 1, active: 1, bytesToTarget: 5, bytesToClient: 5 });
  socket.destroy();
});

test('delay holds each direction for the one-way time and keeps byte order', async () => {
  proxy.setDelay(40);
  const socket = await connect(proxy.port);
  const expected = Buffer.concat(Array.from({ length: 200 }, (_, i) => Buffer.from(`<${i}>`)));
  const started = Date.now();
  const reading = readBytes(socket, expected.length);
  for (let i = 0; i < 200; i++) {
    socket.write(`<${i}>`);
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 3));
  }
  const received = await reading;
  expect(received.equals(expected)).toBe(true);
  expect(Date.now() - started).toBeGreaterThanOrEqual(75); // two one-way delays, with timer slack
  socket.destroy();
});

test('cut destroys every current connection and still accepts new ones', async () => {
  const a = await connect(proxy.port);
  const b = await connect(proxy.port);
  const closed = Promise.all([a, b].map((s) => new Promise((resolve) => s.on('close', resolve))));
  await new Promise((r) => setTimeout(r, 20));
  proxy.cut();
  await closed;
  expect(proxy.stats.cuts).toBe(1);
  const c = await connect(proxy.port);
  c.write('again');
  expect((await readBytes(c, 5)).toString()).toBe('again');
  c.destroy();
});

test('blackhole passes nothing but keeps connections; pass delivers what waited', async () => {
  const socket = await connect(proxy.port);
  socket.write('before');
  await readBytes(socket, 6);
  proxy.blackhole();
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.write('during');
  await expect(readBytes(socket, 6, 200)).rejects.toThrow(/read 0 of 6/);
  // A new connection is accepted but not connected upstream.
  const late = await connect(proxy.port);
  late.write('late');
  expect(closed).toBe(false);
  proxy.pass();
  expect((await readBytes(socket, 6)).toString()).toBe('during');
  expect((await readBytes(late, 4)).toString()).toBe('late');
  socket.destroy();
  late.destroy();
});

test('rejects a negative delay with a clear error', () => {
  expect(() => proxy.setDelay(-1)).toThrow(/non-negative/);
});
