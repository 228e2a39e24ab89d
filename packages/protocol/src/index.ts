/**
 * @agentmesh/protocol: the generated agentmesh.v1 contracts and the wire error
 * type. Everything on the wire is defined here and only here.
 */
export { Code, codeName, parseCode } from './code';
export { MeshError, isAbortError, isTimeoutError } from './mesh-error';
export type { ErrorDetail, MeshErrorOptions } from './mesh-error';

export * from './gen/agentmesh/v1/mesh';
export * from './gen/agentmesh/v1/common';
export * from './gen/agentmesh/v1/planner';
export * from './gen/agentmesh/v1/coder';
export * from './gen/agentmesh/v1/validator';
export * from './gen/agentmesh/v1/echo';

/**
 * The protobuf wire writer the generated code encodes with. A long-lived writer keeps its
 * grown buffer between encodes (finish() copies out and resets), which saves the hot path
 * the reallocations a fresh writer makes for every message.
 */
export { BinaryWriter } from '@bufbuild/protobuf/wire';

/** The mesh protocol version peers exchange in their hello; majors must match. */
export const MESH_PROTOCOL_VERSION = '1.0';

/** Directory holding the .proto sources, for reflection and proto-loader. */
export const PROTO_ROOT: string = require('path').resolve(__dirname, '../../../proto');
