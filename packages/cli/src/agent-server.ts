/**
 * Serves agents (planner, coder, validator, or all three) from one registry on the mesh
 * and on the baseline transports (native gRPC, unary gRPC, REST), each on its own port.
 * `serve` runs it as a process; `run` runs it in-process when no peer addresses are given.
 */
import type { Logger } from 'pino';
import { CoderServiceDefinition, PlannerServiceDefinition, ValidatorServiceDefinition } from '@agentmesh/protocol';
import { createCoderService, type CoderServiceOptions } from '@agentmesh/coder';
import { createPlannerService } from '@agentmesh/planner';
import {
  ServiceRegistry,
  createLogger,
  createMeshClient,
  createMeshServer,
  createTransportServer,
  type MeshClient,
  type MeshServer,
  type ServiceClient,
  type TransportServer,
} from '@agentmesh/runtime';
import { createValidatorService, type ValidatorServiceOptions } from '@agentmesh/validator';

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
}

/** The transports an agent is served on beside the mesh. */
export const baselineTransports = ['grpc', 'unary', 'rest'] as const;
export type BaselineTransport = (typeof baselineTransports)[number];

/** A running agent server. */
export interface AgentServer {
  /** The mesh address. */
  address: string;
  /** Address by transport name: mesh, grpc, unary, rest, and rest-nokeepalive (the REST port). */
  addresses: Record<string, string>;
  server: MeshServer;
  close(graceMs?: number): Promise<void>;
}

/** Starts the named agents on one mesh server and resolves once it listens. */
export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const identity = options.identity ?? options.services.join('+');
  const logger = options.logger ?? createLogger(identity);
  const registry = new ServiceRegistry();
  const server = createMeshServer({ identity, logger, registry });
  let address = '';
  let peers: MeshClient | undefined;
  if (options.services.includes('validator')) server.register(ValidatorServiceDefinition, createValidatorService({ ...options.validatorOptions, logger: logger.child({ agent: 'validator' }) }));
  if (options.services.includes('coder')) server.register(CoderServiceDefinition, createCoderService({ ...options.coder, logger: logger.child({ agent: 'coder' }) }));
  if (options.services.includes('planner')) {
    const validatorAddress = options.validator;
    if (!validatorAddress && !options.services.includes('validator')) {
      throw new Error('the planner needs a validator to probe through: give --validator host:port or AGENTMESH_VALIDATOR_ADDR');
    }
    peers = createMeshClient({ identity: `${identity}-planner`, logger });
    let client: ServiceClient<typeof ValidatorServiceDefinition> | undefined;
    // The co-served validator's address is known only after listen, so the client is made on first use.
    const validator = {
      probe: (...args: Parameters<ServiceClient<typeof ValidatorServiceDefinition>['probe']>) => (client ??= peers!.client(ValidatorServiceDefinition, validatorAddress ?? address)).probe(...args),
      validate: (...args: Parameters<ServiceClient<typeof ValidatorServiceDefinition>['validate']>) => (client ??= peers!.client(ValidatorServiceDefinition, validatorAddress ?? address)).validate(...args),
    };
    server.register(PlannerServiceDefinition, createPlannerService({ validator, logger: logger.child({ agent: 'planner' }) }));
  }
  const port = await server.listen(`${options.host}:${options.port}`);
  address = `${options.host}:${port}`;
  const addresses: Record<string, string> = { mesh: address };
  const baselines: TransportServer[] = [];
  for (const name of options.baselines ?? baselineTransports) {
    const baseline = createTransportServer(name, { registry, log: logger.child({ transport: name }) });
    const baselinePort = await baseline.listen(`${options.host}:${options.baselinePorts?.[name] ?? 0}`);
    addresses[name] = `${options.host}:${baselinePort}`;
    baselines.push(baseline);
  }
  if (addresses.rest) addresses['rest-nokeepalive'] = addresses.rest;
  return {
    address,
    addresses,
    server,
    async close(graceMs = 2000) {
      await peers?.close();
      await Promise.all([server.shutdown(graceMs), ...baselines.map((b) => b.close(graceMs))]);
    },
  };
}
