/**
 * Transports by name, so the CLI, the conductor and the bench can take
 * `--transport <name>`: the mesh (the default) and the baselines, all serving
 * and calling the same registry of handlers. `extra` factories add or replace names.
 */
import type { CallTransport, TransportName } from '../types';
import { createGrpcServer, type GrpcServerOptions } from './grpc-server';
import { createGrpcTransport } from './grpc-transport';
import { createRestServer, type RestServerOptions } from './rest-server';
import { createRestTransport } from './rest-transport';
import type { TransportServer } from './transport-server';
import { createMeshServer, type MeshServerOptions } from '../mesh/mesh-server';
import { createMeshTransport } from '../mesh/mesh-client';

/** The mesh server as a TransportServer, so it can sit in the same table as the baselines. */
export function createMeshTransportServer(options: GrpcServerOptions & RestServerOptions & Partial<MeshServerOptions> = {}): TransportServer {
  const mesh = createMeshServer({ identity: options.identity ?? 'agentmesh', logger: options.logger ?? options.log, registry: options.registry, limits: options.limits });
  const server: TransportServer = {
    registry: mesh.registry,
    register(service, implementation) {
      mesh.register(service, implementation);
      return server as never;
    },
    listen: (address) => mesh.listen(address),
    close: (graceMs) => mesh.shutdown(graceMs ?? 0),
  };
  return server;
}

/** Makes a client transport to an address. */
export type TransportFactory = (address: string) => CallTransport;

/** Makes a server for a transport (not yet listening). */
export type TransportServerFactory = (options: GrpcServerOptions & RestServerOptions) => TransportServer;

/** The client transports this module knows. */
export const builtinTransports: Readonly<Record<string, TransportFactory>> = {
  mesh: (address) => createMeshTransport(address),
  grpc: (address) => createGrpcTransport(address, { mode: 'grpc' }),
  unary: (address) => createGrpcTransport(address, { mode: 'unary' }),
  rest: (address) => createRestTransport(address, { keepAlive: true }),
  'rest-nokeepalive': (address) => createRestTransport(address, { keepAlive: false }),
};

/** The server transports this module knows; both REST clients share one REST server kind. */
export const builtinTransportServers: Readonly<Record<string, TransportServerFactory>> = {
  mesh: (options) => createMeshTransportServer(options),
  grpc: (options) => createGrpcServer({ ...options, mode: 'grpc' }),
  unary: (options) => createGrpcServer({ ...options, mode: 'unary' }),
  rest: (options) => createRestServer(options),
  'rest-nokeepalive': (options) => createRestServer(options),
};

/** Options of createTransport. */
export interface CreateTransportOptions {
  /** More factories by name; they win over the built-ins. */
  extra?: Record<string, TransportFactory>;
}

/**
 * Creates the client transport named `name` to `address`, so one flag picks
 * how calls travel. Unknown names fail with the list of known ones.
 */
export function createTransport(name: TransportName | string, address: string, options: CreateTransportOptions = {}): CallTransport {
  const factories = { ...builtinTransports, ...options.extra };
  const factory = factories[name];
  if (!factory) throw new Error(`unknown transport "${name}"; known transports: ${Object.keys(factories).join(', ')}`);
  return factory(address);
}

/** Options of createTransportServer. */
export interface CreateTransportServerOptions extends GrpcServerOptions, RestServerOptions {
  /** More server factories by name; they win over the built-ins. */
  extra?: Record<string, TransportServerFactory>;
}

/** Creates the server for transport `name`, the counterpart of createTransport. */
export function createTransportServer(name: TransportName | string, options: CreateTransportServerOptions = {}): TransportServer {
  const { extra, ...rest } = options;
  const factories = { ...builtinTransportServers, ...extra };
  const factory = factories[name];
  if (!factory) throw new Error(`unknown transport "${name}"; known server transports: ${Object.keys(factories).join(', ')}`);
  return factory(rest);
}
