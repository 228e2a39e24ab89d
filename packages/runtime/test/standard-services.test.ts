// grpc.health.v1 and server reflection on the native gRPC port, beside the agent's own services.
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { ServiceRegistry, addReflection, createEchoService, createGrpcServer, createHealthService, createLogger, protoFiles } from '@agentmesh/runtime';

const log = createLogger('standard-services-test', { level: 'silent' });

type HealthClient = grpc.Client & {
  check(request: { service: string }, callback: (error: grpc.ServiceError | null, response?: { status: string }) => void): void;
};

function check(client: HealthClient, service = ''): Promise<string> {
  return new Promise((resolve, reject) => client.check({ service }, (error, response) => (error ? reject(error) : resolve(String(response?.status)))));
}

function listServices(address: string): Promise<string[]> {
  const protoLoader = require('@grpc/proto-loader');
  const path = require('node:path');
  const reflectionProto = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');
  const definition = protoLoader.loadSync(reflectionProto, { keepCase: true, oneofs: true });
  const Reflection = grpc.loadPackageDefinition(definition).grpc as any;
  const client = new Reflection.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (response: any) => {
      resolve(response.list_services_response.service.map((s: { name: string }) => s.name));
      call.end();
      client.close();
    });
    call.on('error', reject);
    call.write({ list_services: '' });
  });
}

test('health goes NOT_SERVING → SERVING at start and → NOT_SERVING on drain; reflection lists the services', async () => {
  const registry = new ServiceRegistry();
  registry.register(EchoServiceDefinition, createEchoService());
  const health = createHealthService({ services: ['agentmesh.v1.EchoService'], log });
  const server = createGrpcServer({
    registry,
    log,
    configureServer: (grpcServer) => {
      health.addToServer(grpcServer);
      addReflection(grpcServer, { services: ['agentmesh.v1.EchoService'] });
    },
  });
  const port = await server.listen('127.0.0.1:0');
  const Health = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  const client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
  try {
    expect(await check(client)).toBe('NOT_SERVING');
    await health.started();
    expect(await check(client)).toBe('SERVING');
    expect(await check(client, 'agentmesh.v1.EchoService')).toBe('SERVING');
    await expect(check(client, 'no.Such')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    expect((await listServices(`127.0.0.1:${port}`)).sort()).toEqual(['agentmesh.v1.EchoService', 'grpc.health.v1.Health']);
    health.draining();
    expect(await check(client)).toBe('NOT_SERVING');
    expect(await check(client, 'agentmesh.v1.EchoService')).toBe('NOT_SERVING');
  } finally {
    client.close();
    health.close();
    await server.close(0);
  }
});

test('health is NOT_SERVING while a required peer is unreachable, SERVING once it answers', async () => {
  const peer = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', () => resolve()));
  const peerPort = (peer.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => peer.close(() => resolve()));
  const health = createHealthService({ services: [], peers: [{ name: 'validator', address: `127.0.0.1:${peerPort}` }], peerCheckIntervalMs: 50 });
  try {
    await health.started();
    expect(health.status).toBe('NOT_SERVING');
    const revived = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => revived.listen(peerPort, '127.0.0.1', () => resolve()));
    try {
      expect(await health.checkPeers()).toBe(true);
      expect(health.status).toBe('SERVING');
    } finally {
      await new Promise<void>((resolve) => revived.close(() => resolve()));
    }
    expect(await health.checkPeers()).toBe(false);
    expect(health.status).toBe('NOT_SERVING');
  } finally {
    health.close();
  }
});

test('reflection is fed every proto under PROTO_ROOT', () => {
  expect(protoFiles()).toEqual(expect.arrayContaining(['agentmesh/v1/mesh.proto', 'agentmesh/v1/planner.proto', 'agentmesh/v1/validator.proto']));
});
