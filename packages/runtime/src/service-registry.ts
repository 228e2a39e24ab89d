/**
 * The handlers a server offers, keyed by full method path. Every server
 * transport (mesh, grpc, unary, rest) routes through one registry, so an agent
 * registers once and is served everywhere.
 */
import { Code, MeshError } from '@agentmesh/protocol';
import { methodPath } from './types';
import type { MethodDefinition, ServiceDefinition, ServiceImplementation } from './types';
import { composeServerInterceptors, type ServerHandler, type ServerInterceptor } from './observability/interceptors';
import { defaultServerInterceptors } from './observability/tracing';

/** A registered method, ready to be invoked. */
export interface RegisteredMethod {
  readonly path: string;
  readonly service: ServiceDefinition;
  readonly method: MethodDefinition;
  /** The handler wrapped in the registry's interceptors; what every transport calls. */
  readonly handler: (request: any, ctx: any) => any;
}

interface MethodEntry {
  path: string;
  service: ServiceDefinition;
  method: MethodDefinition;
  handler: ServerHandler;
  raw: ServerHandler;
}

/** Holds registered services and resolves method paths. */
export class ServiceRegistry {
  private readonly methods = new Map<string, MethodEntry>();
  private readonly services = new Map<string, ServiceDefinition>();
  private readonly interceptors: ServerInterceptor[] = [...defaultServerInterceptors()];

  /**
   * Wraps every method, registered before or after, in interceptors (metrics,
   * tracing, logging), so all transports are observed in one place. Earlier
   * interceptors are the outer layers; tracing, when switched on, is outermost.
   */
  use(...interceptors: ServerInterceptor[]): this {
    this.interceptors.push(...interceptors);
    for (const entry of this.methods.values()) entry.handler = composeServerInterceptors(entry.raw, entry, this.interceptors);
    return this;
  }

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
      const raw = handler.bind(implementation) as ServerHandler;
      const entry: MethodEntry = { path, service, method, raw, handler: raw };
      // Transports keep the entry and read `handler` per call, so later use() calls reach them too.
      entry.handler = composeServerInterceptors(raw, entry, this.interceptors);
      this.methods.set(path, entry);
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
