// What only the REST transport promises: HTTP statuses, clear errors for bad
// requests, a body limit, and the headers curl users see.
import * as http from 'node:http';
import { Code, EchoServiceDefinition, MeshError } from '@agentmesh/protocol';
import { createRestServer, type TransportServer } from '../src/transports';

let server: TransportServer;
let port: number;

beforeAll(async () => {
  server = createRestServer({ maxBodyBytes: 1024 });
  server.register(EchoServiceDefinition, {
    echo: async (request) => {
      if (request.failCode) throw new MeshError(request.failCode, request.failMessage);
      return { payload: request.payload, receivedMetadata: {} };
    },
    count: async function* (request) {
      for (let index = 0; index < request.count; index++) yield { index, payload: Buffer.alloc(0) };
    },
  });
  port = await server.listen('127.0.0.1:0');
});
afterAll(() => server.close());

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a unary method answers with ts-proto JSON', async () => {
  const res = await post('/agentmesh.v1.EchoService/Echo', JSON.stringify({ payload: Buffer.from('hi').toString('base64') }));
  expect(res.status).toBe(200);
  expect(Buffer.from(res.body.payload, 'base64').toString()).toBe('hi');
});

test('a streamed method answers with a JSON array of its events', async () => {
  const res = await post('/agentmesh.v1.EchoService/Count', JSON.stringify({ count: 3 }));
  expect(res.status).toBe(200);
  expect(res.body.map((e: { index?: number }) => e.index ?? 0)).toEqual([0, 1, 2]);
});

test('an error code maps to its HTTP status with a JSON body', async () => {
  const res = await post('/agentmesh.v1.EchoService/Echo', JSON.stringify({ failCode: Code.PERMISSION_DENIED, failMessage: 'no' }));
  expect(res.status).toBe(403);
  expect(res.body).toEqual({ code: Code.PERMISSION_DENIED, codeName: 'PERMISSION_DENIED', message: 'no', details: [] });
});

test('an unknown path is 404 naming the services offered', async () => {
  const res = await post('/agentmesh.v1.Nope/Nothing', '{}');
  expect(res.status).toBe(404);
  expect(res.body.code).toBe(Code.UNIMPLEMENTED);
  expect(res.body.message).toContain('agentmesh.v1.EchoService');
});

test('malformed JSON is 400', async () => {
  const res = await post('/agentmesh.v1.EchoService/Echo', '{not json');
  expect(res.status).toBe(400);
  expect(res.body.code).toBe(Code.INVALID_ARGUMENT);
  expect(res.body.message).toMatch(/not valid JSON/);
});

test('a body over the limit is 413 and names the limit', async () => {
  const res = await post('/agentmesh.v1.EchoService/Echo', JSON.stringify({ payload: Buffer.alloc(4096).toString('base64') }));
  expect(res.status).toBe(413);
  expect(res.body.code).toBe(Code.RESOURCE_EXHAUSTED);
  expect(res.body.message).toContain('1024-byte limit');
});

test('a bad timeout header is 400', async () => {
  const res = await post('/agentmesh.v1.EchoService/Echo', '{}', { 'x-agentmesh-timeout-ms': 'soon' });
  expect(res.status).toBe(400);
});
