// Test helpers: the three agents on their own loopback mesh servers in this process, with
// every handler's signal recorded, and fresh copies of examples/broken-repo.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CoderServiceDefinition, PlannerServiceDefinition, ValidatorServiceDefinition } from '@agentmesh/protocol';
import { createMeshServer, type CallContext, type MeshServer } from '@agentmesh/runtime';
import { createCoderService, type CoderServiceOptions } from '@agentmesh/coder';
import { createPlannerService } from '@agentmesh/planner';
import { createValidatorService } from '@agentmesh/validator';

export { treeDigest } from '@agentmesh/validator';

export const brokenRepo = path.resolve(__dirname, '../../../examples/broken-repo');

export function copyBrokenRepo(): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-conductor-'));
  fs.cpSync(brokenRepo, target, { recursive: true, filter: (source) => !/[\\/](dist|node_modules)$/.test(source) });
  return target;
}


/** A handler call as the test saw it. */
export interface SeenCall {
  agent: string;
  method: string;
  signal: AbortSignal;
}

/** Wraps every method of an implementation to record its call context's signal. */
function tracked<T extends object>(agent: string, implementation: T, seen: SeenCall[]): T {
  const wrapped: Record<string, unknown> = {};
  for (const [method, handler] of Object.entries(implementation)) {
    wrapped[method] = (request: unknown, ctx: CallContext) => {
      seen.push({ agent, method, signal: ctx.signal });
      return (handler as (request: unknown, ctx: CallContext) => unknown)(request, ctx);
    };
  }
  return wrapped as T;
}

export interface TestAgents {
  addresses: { planner: string; coder: string; validator: string };
  seen: SeenCall[];
  servers: MeshServer[];
  close(): Promise<void>;
}

/** Starts the validator, the planner (probing through it) and the coder, each on its own mesh server. */
export async function startTestAgents(options: { coder?: CoderServiceOptions } = {}): Promise<TestAgents> {
  const seen: SeenCall[] = [];
  const validatorServer = createMeshServer({ identity: 'validator' }).register(ValidatorServiceDefinition, tracked('validator', createValidatorService(), seen));
  const validator = `127.0.0.1:${await validatorServer.listen('127.0.0.1:0')}`;
  const plannerServer = createMeshServer({ identity: 'planner' }).register(PlannerServiceDefinition, tracked('planner', createPlannerService({ validator }), seen));
  const planner = `127.0.0.1:${await plannerServer.listen('127.0.0.1:0')}`;
  const coderServer = createMeshServer({ identity: 'coder' }).register(CoderServiceDefinition, tracked('coder', createCoderService(options.coder), seen));
  const coder = `127.0.0.1:${await coderServer.listen('127.0.0.1:0')}`;
  const servers = [plannerServer, coderServer, validatorServer];
  return {
    addresses: { planner, coder, validator },
    seen,
    servers,
    close: async () => {
      await Promise.all(servers.map((server) => server.shutdown(200)));
    },
  };
}
