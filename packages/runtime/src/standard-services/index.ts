/** The standard gRPC services every agent offers on its native gRPC port: health and reflection. */
export { canConnect, createHealthService } from './health';
export type { HealthService, HealthServiceOptions, RequiredPeer } from './health';
export { addReflection, protoFiles } from './reflection';
export type { ReflectionOptions } from './reflection';
