/**
 * `agentmesh serve <service>`: runs one service (planner, coder, validator, all, or the
 * smoke job's echo and relay) until SIGTERM or SIGINT, then drains: health goes
 * NOT_SERVING, goaway on every mesh session, the listeners stop accepting, calls in
 * flight get the grace period to finish, exit 0. A second signal exits at once.
 */
import pino, { type Logger } from 'pino';
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { agentNames, startAgentServer, type AgentService } from './agent-server';
import { createEchoService, createMeshClient, createMeshServer, type MeshServer, type ServiceImplementation } from '@agentmesh/runtime';
import type { ServiceConfig } from './service-config';

/** Options of serve(): the checked service configuration. */
export type ServeOptions = ServiceConfig;

/** The process logger: JSON, or pretty through pino-pretty when stderr is a terminal. */
export function createServiceLogger(name: string, level: string): Logger {
  if (process.stderr.isTTY) return pino({ name, level, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  return pino({ name, level });
}

/** Builds the mesh server for one of the smoke job's services. */
function buildServer(options: ServeOptions, logger: Logger): MeshServer {
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
async function startServer(options: ServeOptions, logger: Logger): Promise<{ address: string; addresses: Record<string, string>; shutdown(graceMs: number): Promise<void> }> {
  if (options.service === 'all' || (agentNames as readonly string[]).includes(options.service)) {
    const services = options.service === 'all' ? agentNames : [options.service as AgentService];
    const agents = await startAgentServer({
      services,
      host: options.host,
      port: options.port,
      validator: options.validator,
      identity: options.service,
      logger,
      baselinePorts: { grpc: options.grpcPort, unary: options.unaryPort, rest: options.restPort },
      metricsPort: options.metricsPort,
    });
    return { address: agents.address, addresses: agents.addresses, shutdown: (graceMs) => agents.close(graceMs) };
  }
  const server = buildServer(options, logger);
  const port = await server.listen(`${options.host}:${options.port}`);
  const address = `${options.host}:${port}`;
  return { address, addresses: { mesh: address }, shutdown: (graceMs) => server.shutdown(graceMs) };
}

/** Runs a service until a signal; resolves with the exit code. */
export async function serve(options: ServeOptions): Promise<number> {
  const logger = createServiceLogger(options.service, options.logLevel);
  const server = await startServer(options, logger);
  const address = server.address;
  logger.info({ addresses: server.addresses }, 'listening');
  if (options.announce) process.stdout.write(JSON.stringify({ announce: 'listening', service: options.service, address, addresses: server.addresses }) + '\n');
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting at once');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal, graceMs: options.graceMs }, 'draining: in-flight calls get the grace period');
      server.shutdown(options.graceMs).then(
        () => {
          logger.info('drained; exiting');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
