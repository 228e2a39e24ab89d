/**
 * Serves agents (planner, coder, validator, or all three) on one mesh port. `serve` runs it
 * as a process; `run` runs it in-process when no peer addresses are given.
 */
import type { Logger } from 'pino';
import { CoderServiceDefinition, PlannerServiceDefinition, ValidatorServiceDefinition } from '@agentmesh/protocol';
import { createCoderService, type CoderServiceOptions } from '@agentmesh/coder';
import { createPlannerService } from '@agentmesh/planner';
import { createLogger, createMeshClient, createMeshServer, type MeshClient, type MeshServer, type ServiceClient } from '@agentmesh/runtime';
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
}

/** A running agent server. */
export interface AgentServer {
  address: string;
  server: MeshServer;
  close(graceMs?: number): Promise<void>;
}

/** Starts the named agents on one mesh server and resolves once it listens. */
export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const identity = options.identity ?? options.services.join('+');
  const logger = options.logger ?? createLogger(identity);
  const server = createMeshServer({ identity, logger });
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
  return {
    address,
    server,
    async close(graceMs = 2000) {
      await peers?.close();
      await server.shutdown(graceMs);
    },
  };
}
