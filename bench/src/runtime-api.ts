/**
 * The one place the bench imports the runtime from. The transports and the
 * test proxy are read from the runtime's built `dist/transports` and
 * `dist/testing` barrels until the runtime's index re-exports them; then these
 * two lines become `from '@agentmesh/runtime'` / `'@agentmesh/runtime/testing'`.
 */
export { createServiceClient } from '@agentmesh/runtime';
export type { CallTransport, ServiceClient } from '@agentmesh/runtime';
export { createTransport, createTransportServer } from '@agentmesh/runtime/dist/transports';
export type { TransportServer } from '@agentmesh/runtime/dist/transports';
export { createTcpProxy } from '@agentmesh/runtime/dist/testing';
export type { TcpProxy } from '@agentmesh/runtime/dist/testing';
