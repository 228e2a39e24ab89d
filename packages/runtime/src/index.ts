/**
 * @agentmesh/runtime: serve agents and call them. The mesh (one long-lived
 * multiplexed stream per pair of peers) is the default transport; native gRPC,
 * unary and REST adapters serve the very same handlers.
 */
export type {
  CallContext,
  CallOptions,
  CallTransport,
  DeepPartial,
  MessageType,
  MethodDefinition,
  PeerInfo,
  ServiceClient,
  ServiceDefinition,
  ServiceImplementation,
  StreamControl,
  StreamingHandler,
  StreamSink,
  TransportName,
  UnaryHandler,
} from './types';
export { methodPath } from './types';
export { ResponseStream } from './response-stream';
export { createServiceClient, normalizeMetadata, resolveDeadline } from './client';
export { ServiceRegistry } from './service-registry';
export type { RegisteredMethod } from './service-registry';
export { createServerCall, errorFromStatus, statusFromHandlerError, toAsyncIterable } from './call-context';
export type { CallContextInit, ServerCall, StreamResult, WireStatus } from './call-context';
export { createLogger } from './logger';
export * from './mesh';
export { createEchoService } from './echo/echo-service';
export type { EchoServiceOptions } from './echo/echo-service';
export * from './transports';
export * from './observability';
export * from './standard-services';
export type { ServiceClientOptions } from './client';
