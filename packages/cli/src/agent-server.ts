/**
 * Serves agents (planner, coder, validator, or all three) from one registry on the mesh
 * and on the baseline transports (native gRPC, unary gRPC, REST), each on its own port.
 * The registry's interceptors count and time every call on every transport; the native
 * gRPC port also serves grpc.health.v1 and server reflection; /metrics has its own port.
 * `serve` runs it as a process; `run` runs it in-process when no peer addresses are given.
 */
import type { Logger } from 'pino';
import { CoderServiceDefinition, PlannerServiceDefinition, ValidatorServiceDefinition } from '@agentmesh/protocol';
import { createCoderService, type CoderServiceOptions } from '@agentmesh/coder';
import { createPlannerService } from '@agentmesh/planner';
import {
  ServiceRegistry,
  addReflection,
  createHealthService,
  createLogger,
  createMeshClient,
  createMeshServer,
  createServiceClient,
  createServiceMetrics,
  createTransportServer,
  startMetricsServer,
  type HealthService,
  type MeshClient,
  type MeshServer,
  type MetricsServer,
  type ServiceClient,
  type ServiceMetrics,
  type TransportServer,
} from '@agentmesh/runtime';
import { createValidatorService, type ValidatorServiceOptions } from '@agentmesh/validator';
import { createDecisionRecorder } from '@agentmesh/sandbox';

/** The agents there are. */
export const agentNames = ['planner', 'coder', 'validator'] as const;
export type AgentService = (typeof agentNames)[number];

/** Options of startAgentServer. */
export interface AgentServerOptions {
  services: readonly AgentService[];
  host: string;
  port: number;
  /** The validator the planner probes through; the co-served one when omitted and served here. */
  validator?: string;
  coder?: CoderServiceOptions;
  validatorOptions?: ValidatorServiceOptions;
  logger?: Logger;
  identity?: string;
  /** Baseline transports served beside the mesh, each on its own port (default grpc, unary, rest; [] for mesh only). */
  baselines?: readonly BaselineTransport[];
  /** Ports of the baseline servers (default 0: any free port). */
  baselinePorts?: Partial<Record<BaselineTransport, number>>;
  /** Port of the HTTP /metrics endpoint (0: any free port); no endpoint when omitted. */
  metricsPort?: number;
  /** How often the planner checks that its validator is reachable, for health (default 2000 ms). */
  peerCheckIntervalMs?: number;
}

/** The transports an agent is served on beside the mesh. */
export const baselineTransports = ['grpc', 'unary', 'rest'] as const;
export type BaselineTransport = (typeof baselineTransports)[number];

/** A running agent server. */
export interface AgentServer {
  /** The mesh address. */
  address: string;
  /** Address by transport name: mesh, grpc, unary, rest, rest-nokeepalive (the REST port), and metrics when served. */
  addresses: Record<string, string>;
  server: MeshServer;
  /** The service's metrics (its own prom-client registry). */
  metrics: ServiceMetrics;
  /** grpc.health.v1 status: SERVING once listening with its peers reachable, NOT_SERVING once draining. */
  health: HealthService;
  /** Goaway to every session and NOT_SERVING, without stopping: for rotation and for tests. */
  drain(reason?: string): void;
  close(graceMs?: number): Promise<void>;
}

/** Starts the named agents on one mesh server and resolves once it listens. */
export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const identity = options.identity ?? options.services.join('+');
  const logger = options.logger ?? createLogger(identity);
  const metrics = createServiceMetrics({ service: identity, processMetrics: options.metricsPort !== undefined });
  const registry = new ServiceRegistry().use(metrics.serverInterceptor);
  const server = createMeshServer({ identity, logger, registry, onSessionEvent: metrics.onSessionEvent });
  metrics.observeMeshServer(server);
  let address = '';
  let peers: MeshClient | undefined;
  if (options.services.includes('validator')) {
    const decisions = options.validatorOptions?.decisions ?? createDecisionRecorder();
    decisions.onDecision(metrics.recordSandboxDecision);
    server.register(ValidatorServiceDefinition, createValidatorService({ ...options.validatorOptions, decisions, logger: logger.child({ agent: 'validator' }) }));
  }
  if (options.services.includes('coder')) server.register(CoderServiceDefinition, createCoderService({ ...options.coder, logger: logger.child({ agent: 'coder' }) }));
  if (options.services.includes('planner')) {
    const validatorAddress = options.validator;
    if (!validatorAddress && !options.services.includes('validator')) {
      throw new Error('the planner needs a validator to probe through: give --validator host:port or AGENTMESH_VALIDATOR_ADDR');
    }
    peers = createMeshClient({ identity: `${identity}-planner`, logger, onSessionEvent: metrics.onSessionEvent });
    let client: ServiceClient<typeof ValidatorServiceDefinition> | undefined;
    // The co-served validator's address is known only after listen, so the client is made on first use.
    const validatorClient = () =>
      (client ??= createServiceClient(ValidatorServiceDefinition, peers!.transport(validatorAddress ?? address), { interceptors: [metrics.clientInterceptor] }));
    const validator = {
      probe: (...args: Parameters<ServiceClient<typeof ValidatorServiceDefinition>['probe']>) => validatorClient().probe(...args),
      validate: (...args: Parameters<ServiceClient<typeof ValidatorServiceDefinition>['validate']>) => validatorClient().validate(...args),
    };
    server.register(PlannerServiceDefinition, createPlannerService({ validator, logger: logger.child({ agent: 'planner' }) }));
  }
  // The planner is only useful while its (remote) validator answers.
  const requiredPeers = options.services.includes('planner') && options.validator ? [{ name: 'validator', address: options.validator }] : [];
  const health = createHealthService({
    services: registry.list().map((service) => service.fullName),
    peers: requiredPeers,
    peerCheckIntervalMs: options.peerCheckIntervalMs,
    log: logger.child({ component: 'health' }),
  });
  const port = await server.listen(`${options.host}:${options.port}`);
  address = `${options.host}:${port}`;
  const addresses: Record<string, string> = { mesh: address };
  const baselines: TransportServer[] = [];
  for (const name of options.baselines ?? baselineTransports) {
    const baseline = createTransportServer(name, {
      registry,
      log: logger.child({ transport: name }),
      configureServer:
        name === 'grpc'
          ? (grpcServer) => {
              health.addToServer(grpcServer);
              addReflection(grpcServer, { services: registry.list().map((service) => service.fullName) });
            }
          : undefined,
    });
    const baselinePort = await baseline.listen(`${options.host}:${options.baselinePorts?.[name] ?? 0}`);
    addresses[name] = `${options.host}:${baselinePort}`;
    baselines.push(baseline);
  }
  if (addresses.rest) addresses['rest-nokeepalive'] = addresses.rest;
  let metricsServer: MetricsServer | undefined;
  if (options.metricsPort !== undefined) {
    metricsServer = await startMetricsServer({ host: options.host, port: options.metricsPort, registry: metrics.registry, ready: () => health.status === 'SERVING', log: logger });
    addresses.metrics = metricsServer.address;
  }
  await health.started();
  return {
    address,
    addresses,
    server,
    metrics,
    health,
    drain(reason = 'draining') {
      health.draining();
      metrics.recordDrain(reason);
      server.drain(reason);
    },
    async close(graceMs = 2000) {
      health.draining();
      health.close();
      metrics.recordDrain('shutdown');
      await Promise.all([server.shutdown(graceMs), ...baselines.map((b) => b.close(graceMs))]);
      await peers?.close();
      await metricsServer?.close();
    },
  };
}
