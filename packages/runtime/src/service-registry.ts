/**
 * The handlers a server offers, keyed by full method path. Every server
 * transport (mesh, grpc, unary, rest) routes through one registry, so an agent
 * registers once and is served everywhere.
 */
import { Code, MeshError } from '@agentmesh/protocol';
import { methodPath } from './types';
import type { MethodDefinition, ServiceDefinition, ServiceImplementation } from './types';

/** A registered method, ready to be invoked. */
export interface RegisteredMethod {
  readonly path: string;
  readonly service: ServiceDefinition;
  readonly method: MethodDefinition;
  readonly handler: (request: any, ctx: any) => any;
}

/** Holds registered services and resolves method paths. */
export class ServiceRegistry {
  private readonly methods = new Map<string, RegisteredMethod>();
  private readonly services = new Map<string, ServiceDefinition>();

  /** Registers a service's handlers; every method of the definition must have one. */
  register<S extends ServiceDefinition>(service: S, implementation: ServiceImplementation<S>): this {
    if (this.services.has(service.fullName)) {
      throw new MeshError(Code.ALREADY_EXISTS, `service ${service.fullName} is already registered`);
    }
    for (const [key, method] of Object.entries(service.methods)) {
      const handler = (implementation as Record<string, unknown>)[key];
      if (typeof handler !== 'function') {
        throw new MeshError(Code.INVALID_ARGUMENT, `implementation of ${service.fullName} has no handler for method "${key}"`);
      }
      const path = methodPath(service, method);
      this.methods.set(path, { path, service, method, handler: handler.bind(implementation) as RegisteredMethod['handler'] });
    }
    this.services.set(service.fullName, service);
    return this;
  }

  /** The method at a path, or undefined. */
  lookup(path: string): RegisteredMethod | undefined {
    return this.methods.get(path);
  }

  /** Registered services, for reflection and health. */
  list(): ServiceDefinition[] {
    return [...this.services.values()];
  }
}
