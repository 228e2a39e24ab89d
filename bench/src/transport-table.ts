/**
 * Every transport the bench can measure, in one table: how its server is
 * started (in a child process) and how the load generator connects to it.
 */
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { createMeshClient, createServiceClient, createTransport, createTransportServer, type CallTransport, type ServiceClient } from './runtime-api';
import { connectGrpcBidiRaw, connectTcp, type Caller } from './raw-clients';

/** A server the echo child can run: register the echo service, listen, report the port. */
export interface EchoServer {
  register(service: typeof EchoServiceDefinition, implementation: never): unknown;
  listen(address: string): Promise<number>;
}

/** A transport that serves EchoService and is called through a CallTransport. */
export interface EchoTransportEntry {
  serve(): EchoServer;
  connect(address: string): CallTransport;
}

/** EchoService over each runtime transport. */
export const echoTransports: Record<string, EchoTransportEntry> = {
  mesh: { serve: () => createTransportServer('mesh') as EchoServer, connect: (a) => createTransport('mesh', a) },
  grpc: { serve: () => createTransportServer('grpc') as EchoServer, connect: (a) => createTransport('grpc', a) },
  unary: { serve: () => createTransportServer('unary') as EchoServer, connect: (a) => createTransport('unary', a) },
  rest: { serve: () => createTransportServer('rest') as EchoServer, connect: (a) => createTransport('rest', a) },
  'rest-nokeepalive': {
    serve: () => createTransportServer('rest-nokeepalive') as EchoServer,
    connect: (a) => createTransport('rest-nokeepalive', a),
  },
};

/** How the load generator reaches one transport. */
export interface BenchTransport {
  name: string;
  /** Child server script under dist/servers, and its arguments. */
  server: { script: string; args: string[] };
  /** A caller for hop and throughput (one connection; concurrent calls share it). */
  connect(address: string): Promise<Caller>;
  /** An EchoService client for the workflow scenarios; undefined for raw transports. */
  echoClient?(address: string): { client: ServiceClient<typeof EchoServiceDefinition>; close(): Promise<void> };
  /** Messages on the wire per call (request + response), for frames/s when the caller cannot count them. */
  framesPerCall: number;
}

function echoBench(name: string): BenchTransport {
  return {
    name,
    server: { script: 'echo-server.js', args: [name] },
    framesPerCall: 2,
    async connect(address) {
      if (name === 'mesh') {
        // Same as createTransport('mesh', address) (one pool, one session), but keeps the pool so the
        // session's frame and batch counters can be read: the mesh's frames per call are measured, not assumed.
        const pool = createMeshClient();
        const client = createServiceClient(EchoServiceDefinition, pool.transport(address));
        return {
          call: async (payload) => {
            await client.echo({ payload });
          },
          close: () => pool.close(),
          wireStats: () => {
            const s = pool.currentSession(address)?.stats;
            return s ? { frames: s.framesSent + s.framesReceived, writes: s.batchesSent + s.batchesReceived } : { frames: 0, writes: 0 };
          },
        };
      }
      const transport = echoTransports[name].connect(address);
      const client = createServiceClient(EchoServiceDefinition, transport);
      return {
        call: async (payload) => {
          await client.echo({ payload });
        },
        close: () => transport.close(),
      };
    },
    echoClient(address) {
      const transport = echoTransports[name].connect(address);
      return { client: createServiceClient(EchoServiceDefinition, transport), close: () => transport.close() };
    },
  };
}

/** Every transport by name: the two floors, then the runtime's transports. */
export function benchTransports(): Record<string, BenchTransport> {
  const table: Record<string, BenchTransport> = {
    tcp: { name: 'tcp', server: { script: 'tcp-echo.js', args: [] }, framesPerCall: 2, connect: connectTcp },
    'grpc-bidi-raw': { name: 'grpc-bidi-raw', server: { script: 'grpc-bidi-raw.js', args: [] }, framesPerCall: 2, connect: connectGrpcBidiRaw },
  };
  for (const name of Object.keys(echoTransports)) table[name] = echoBench(name);
  return table;
}
