/**
 * Bad input on the wire: a raw Connect stream sends malformed frames and the
 * server answers each with a clear error frame, logs it, and keeps serving.
 */
import * as grpc from '@grpc/grpc-js';
import { Code, EchoRequest, EchoResponse, EchoServiceDefinition, FrameBatch, type Frame } from '@agentmesh/protocol';
import { CONNECT_PATH, createEchoService, createMeshServer, decodeBatch, encodeBatch, type MeshServer } from '@agentmesh/runtime';

describe('mesh protocol errors', () => {
  let server: MeshServer;
  let address: string;
  beforeAll(async () => {
    server = createMeshServer({ identity: 'strict-server' });
    server.register(EchoServiceDefinition, createEchoService());
    address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  });
  afterAll(() => server.shutdown(50));

  /** A raw peer: writes frames (or raw bytes) and collects every frame it gets back. */
  function rawPeer() {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const received: Frame[] = [];
    const stream = client.makeBidiStreamRequest<Buffer, ReturnType<typeof decodeBatch>>(CONNECT_PATH, (b) => b, decodeBatch);
    stream.on('data', (incoming) => {
      if (!('undecodable' in incoming)) received.push(...incoming.frames);
    });
    stream.on('error', () => undefined);
    let seq = 0;
    const send = (frames: Array<Omit<Frame, 'seq'> & { seq?: number }>) =>
      stream.write(encodeBatch({ frames: frames.map((f) => ({ seq: f.kind?.$case === 'hello' ? 0 : ++seq, ...f }) as Frame) }));
    send([{ callId: 0, kind: { $case: 'hello', hello: { peerId: 'raw', protocolVersion: '1.0', sessionId: '', lastReceivedSeq: 0, initialWindow: 16, maxMessageBytes: 1 << 20, resumed: false } } }]);
    const closes = () => received.filter((f) => f.kind?.$case === 'close').map((f) => ({ callId: f.callId, ...(f.kind as { close: { code: number; message: string } }).close }));
    const until = async (predicate: () => boolean) => {
      for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
      if (!predicate()) throw new Error(`no such frame; got ${JSON.stringify(received.map((f) => f.kind?.$case))}`);
    };
    const echoCall = (callId: number, payload: Buffer = Buffer.from(EchoRequest.encode(EchoRequest.fromPartial({ payload: Buffer.from('x') })).finish())) =>
      send([
        { callId, kind: { $case: 'open', open: { method: '/agentmesh.v1.EchoService/Echo', timeoutMs: 0, metadata: {}, idempotent: false, payload: Buffer.alloc(0), hasPayload: false, halfClose: false } } },
        { callId, kind: { $case: 'message', message: { payload } } },
        { callId, kind: { $case: 'halfClose', halfClose: {} } },
      ]);
    return { send, stream, received, closes, until, echoCall, raw: (bytes: Buffer) => stream.write(bytes), close: () => { stream.cancel(); client.close(); } };
  }

  test('a frame for a call that was never opened', async () => {
    const peer = rawPeer();
    peer.send([{ callId: 41, kind: { $case: 'message', message: { payload: Buffer.from('x') } } }]);
    await peer.until(() => peer.closes().some((c) => c.callId === 41));
    const close = peer.closes().find((c) => c.callId === 41)!;
    expect(close.code).toBe(Code.NOT_FOUND);
    expect(close.message).toContain('never opened');
    peer.echoCall(43);
    await peer.until(() => peer.closes().some((c) => c.callId === 43 && c.code === Code.OK));
    peer.close();
  });

  test('a duplicate open', async () => {
    const peer = rawPeer();
    peer.echoCall(1);
    await peer.until(() => peer.closes().some((c) => c.callId === 1));
    peer.echoCall(1);
    await peer.until(() => peer.closes().some((c) => c.callId === 1 && c.code === Code.ALREADY_EXISTS));
    expect(peer.closes().find((c) => c.code === Code.ALREADY_EXISTS)!.message).toContain('opened twice');
    peer.close();
  });

  test('an undecodable request payload', async () => {
    const peer = rawPeer();
    peer.echoCall(5, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await peer.until(() => peer.closes().some((c) => c.callId === 5));
    const close = peer.closes().find((c) => c.callId === 5)!;
    expect(close.code).toBe(Code.INVALID_ARGUMENT);
    expect(close.message).toContain('could not be decoded');
    peer.echoCall(7);
    await peer.until(() => peer.closes().some((c) => c.callId === 7 && c.code === Code.OK));
    peer.close();
  });

  test('an undecodable frame batch', async () => {
    const peer = rawPeer();
    peer.raw(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    await peer.until(() => peer.closes().some((c) => c.callId === 0));
    expect(peer.closes().find((c) => c.callId === 0)!.message).toContain('could not be decoded');
    peer.echoCall(9);
    await peer.until(() => peer.closes().some((c) => c.callId === 9 && c.code === Code.OK));
    peer.close();
  });

  test('an out-of-order frame (a message after half-close)', async () => {
    const peer = rawPeer();
    peer.send([
      { callId: 11, kind: { $case: 'open', open: { method: '/agentmesh.v1.EchoService/Echo', timeoutMs: 0, metadata: {}, idempotent: false, payload: Buffer.alloc(0), hasPayload: false, halfClose: false } } },
      { callId: 11, kind: { $case: 'halfClose', halfClose: {} } },
    ]);
    await peer.until(() => peer.closes().some((c) => c.callId === 11));
    expect(peer.closes().find((c) => c.callId === 11)!.message).toContain('without a request');
    peer.echoCall(13);
    peer.send([{ callId: 13, kind: { $case: 'message', message: { payload: Buffer.alloc(0) } } }]);
    await peer.until(() => peer.closes().some((c) => c.callId === 13));
    peer.close();
  });

  test('a sequence gap is reported as DATA_LOSS', async () => {
    const peer = rawPeer();
    peer.stream.write(encodeBatch({ frames: [{ callId: 15, seq: 99, kind: { $case: 'cancel', cancel: { reason: 'x' } } }] }));
    await peer.until(() => peer.closes().some((c) => c.code === Code.DATA_LOSS));
    expect(peer.closes().find((c) => c.code === Code.DATA_LOSS)!.message).toContain('out of order');
    peer.close();
  });

  test('an unknown method and a frame with no kind', async () => {
    const peer = rawPeer();
    peer.send([
      { callId: 17, kind: { $case: 'open', open: { method: '/nope.Service/Nothing', timeoutMs: 0, metadata: {}, idempotent: false, payload: Buffer.alloc(0), hasPayload: false, halfClose: false } } },
      { callId: 19, kind: undefined },
    ]);
    await peer.until(() => peer.closes().some((c) => c.callId === 17) && peer.closes().some((c) => c.callId === 19));
    expect(peer.closes().find((c) => c.callId === 17)!.code).toBe(Code.UNIMPLEMENTED);
    expect(peer.closes().find((c) => c.callId === 17)!.message).toContain('/nope.Service/Nothing');
    expect(peer.closes().find((c) => c.callId === 19)!.message).toContain('no kind');
    peer.close();
  });

  test('the compact form: a request inside the open, the unary response inside the close', async () => {
    const peer = rawPeer();
    const request = Buffer.from(EchoRequest.encode(EchoRequest.fromPartial({ payload: Buffer.from('compact') })).finish());
    const open = (callId: number, payload: Buffer) =>
      peer.send([{ callId, kind: { $case: 'open', open: { method: '/agentmesh.v1.EchoService/Echo', timeoutMs: 0, metadata: {}, idempotent: false, payload, hasPayload: true, halfClose: true } } }]);
    open(21, request);
    await peer.until(() => peer.closes().some((c) => c.callId === 21));
    const close = peer.received.find((f) => f.callId === 21 && f.kind?.$case === 'close')!;
    expect(close.kind?.$case === 'close' && close.kind.close.code).toBe(Code.OK);
    expect(close.kind?.$case === 'close' && close.kind.close.hasPayload).toBe(true);
    expect(close.kind?.$case === 'close' && EchoResponse.decode(close.kind.close.payload).payload.toString()).toBe('compact');
    // An undecodable request in the compact form is refused like one in a message frame.
    open(23, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await peer.until(() => peer.closes().some((c) => c.callId === 23));
    expect(peer.closes().find((c) => c.callId === 23)!.code).toBe(Code.INVALID_ARGUMENT);
    peer.close();
  });

  test('a wrong protocol version is refused with FAILED_PRECONDITION', async () => {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const frames: Frame[] = [];
    const stream = client.makeBidiStreamRequest<Buffer, ReturnType<typeof decodeBatch>>(CONNECT_PATH, (b) => b, decodeBatch);
    stream.on('data', (incoming) => !('undecodable' in incoming) && frames.push(...incoming.frames));
    stream.on('error', () => undefined);
    stream.write(Buffer.from(FrameBatch.encode({ frames: [{ callId: 0, seq: 0, kind: { $case: 'hello', hello: { peerId: 'old', protocolVersion: '9.0', sessionId: '', lastReceivedSeq: 0, initialWindow: 1, maxMessageBytes: 1, resumed: false } } }] }).finish()));
    for (let i = 0; i < 100 && !frames.some((f) => f.kind?.$case === 'close'); i++) await new Promise((r) => setTimeout(r, 10));
    const close = frames.find((f) => f.kind?.$case === 'close');
    expect(close && close.kind?.$case === 'close' && close.kind.close.code).toBe(Code.FAILED_PRECONDITION);
    stream.cancel();
    client.close();
  });
});
