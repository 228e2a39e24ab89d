/**
 * The one place the bench imports the runtime from, so what it measures is
 * exactly the runtime's public surface.
 */
export { createMeshClient, createServiceClient, createTransport, createTransportServer } from '@agentmesh/runtime';
export type { CallTransport, ServiceClient, TransportServer } from '@agentmesh/runtime';
export { createTcpProxy } from '@agentmesh/runtime/testing';
export type { TcpProxy } from '@agentmesh/runtime/testing';
