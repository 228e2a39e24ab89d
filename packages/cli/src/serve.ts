/**
 * `agentmesh serve <service>`: runs one service (planner, coder, validator, all, or the
 * smoke job's echo and relay) on a mesh port until SIGTERM or SIGINT, then drains:
 * goaway, let calls finish within the grace period, exit 0. A second signal exits at once.
 */
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { agentNames, startAgentServer, type AgentService } from './agent-server';
import { createEchoService, createLogger, createMeshClient, createMeshServer, type MeshServer, type ServiceImplementation } from '@agentmesh/runtime';

/** Options of serve(). */
export interface ServeOptions {
  service: string;
  host: string;
  port: number;
  /** Print a JSON "listening" line on stdout for a parent process. */
  announce: boolean;
  upstream?: string;
  /** The validator the planner probes through (serve planner). */
  validator?: string;
  graceMs: number;
}

/** Builds the mesh server for a named service. */
function buildServer(options: ServeOptions): MeshServer {
  const logger = createLogger(options.service);
  const server = createMeshServer({ identity: options.service, logger });
  switch (options.service) {
    case 'echo':
      server.register(EchoServiceDefinition, createEchoService());
      return server;
    case 'relay': {
      if (!options.upstream) throw new Error('serve relay needs --upstream <host:port>');
      const upstream = createMeshClient({ identity: 'relay', logger }).client(EchoServiceDefinition, options.upstream);
      const relay: ServiceImplementation<typeof EchoServiceDefinition> = {
        async echo(request, ctx) {
          const response = await upstream.echo(request, { signal: ctx.signal, metadata: { ...ctx.metadata, 'x-relayed-by': 'relay' } });
          return response;
        },
        count: (request, ctx) => upstream.count(request, { signal: ctx.signal, metadata: ctx.metadata }),
      };
      server.register(EchoServiceDefinition, relay);
      return server;
    }
    default:
      throw new Error(`unknown service "${options.service}"; expected one of: planner, coder, validator, all, echo, relay`);
  }
}

/** Starts the named service: an agent (or all three) or one of the smoke job's services. */
async function startServer(options: ServeOptions): Promise<{ address: string; addresses: Record<string, string>; shutdown(graceMs: number): Promise<void> }> {
  if (options.service === 'all' || (agentNames as readonly string[]).includes(options.service)) {
    const services = options.service === 'all' ? agentNames : [options.service as AgentService];
    const agents = await startAgentServer({ services, host: options.host, port: options.port, validator: options.validator, identity: options.service });
    return { address: agents.address, addresses: agents.addresses, shutdown: (graceMs) => agents.close(graceMs) };
  }
  const server = buildServer(options);
  const port = await server.listen(`${options.host}:${options.port}`);
  const address = `${options.host}:${port}`;
  return { address, addresses: { mesh: address }, shutdown: (graceMs) => server.shutdown(graceMs) };
}

/** Runs a service until a signal; resolves with the exit code. */
export async function serve(options: ServeOptions): Promise<number> {
  const server = await startServer(options);
  const address = server.address;
  if (options.announce) process.stdout.write(JSON.stringify({ announce: 'listening', service: options.service, address, addresses: server.addresses }) + '\n');
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(1);
      stopping = true;
      void server.shutdown(options.graceMs).then(() => resolve(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
