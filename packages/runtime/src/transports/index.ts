/**
 * The non-mesh transports: native gRPC (per-call streams), unary gRPC and
 * HTTP/1.1 JSON, each a server over a ServiceRegistry and a CallTransport
 * client, plus a by-name factory. Re-exported by the runtime's index.
 */
export { createGrpcServer, createGrpcServiceDefinition } from './grpc-server';
export type { GrpcMode, GrpcServerOptions } from './grpc-server';
export { createGrpcTransport } from './grpc-transport';
export type { GrpcTransportOptions } from './grpc-transport';
export { createRestServer } from './rest-server';
export type { RestErrorBody, RestServerOptions } from './rest-server';
export { createRestTransport } from './rest-transport';
export type { RestTransportOptions } from './rest-transport';
export { META_PREFIX, TIMEOUT_HEADER, TRAILER_PREFIX } from './rest-headers';
export { codeFromHttpStatus, httpStatusFromCode } from './http-status';
export { ERROR_DETAILS_TRAILER, decodeErrorDetails, decodeLengthPrefixed, encodeErrorDetails, encodeLengthPrefixed } from './wire-encoding';
export { parseHostPort } from './transport-server';
export type { TransportServer, TransportServerOptions } from './transport-server';
export { builtinTransportServers, builtinTransports, createMeshTransportServer, createTransport, createTransportServer } from './create-transport';
export type { CreateTransportOptions, CreateTransportServerOptions, TransportFactory, TransportServerFactory } from './create-transport';
