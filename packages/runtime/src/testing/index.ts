/**
 * Test doubles the runtime ships on purpose (`@agentmesh/runtime/testing`):
 * a TCP proxy that delays, cuts and blackholes.
 */
export { createTcpProxy } from './tcp-proxy';
export type { TcpProxy, TcpProxyOptions, TcpProxyStats } from './tcp-proxy';
