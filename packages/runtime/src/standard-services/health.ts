/**
 * gRPC health checking (grpc.health.v1) with the agent's real readiness: NOT_SERVING
 * while it starts, while it drains, and while a peer it needs is unreachable, so
 * Kubernetes probes, docker healthchecks and load balancers stop sending it work.
 */
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type * as grpc from '@grpc/grpc-js';

/** A peer this service needs, checked by opening a TCP connection to it. */
export interface RequiredPeer {
  /** Shown in logs: "validator". */
  name: string;
  /** host:port */
  address: string;
}

/** Options of createHealthService. */
export interface HealthServiceOptions {
  /** Fully qualified names of the services served (each gets its own status beside the overall ""). */
  services: readonly string[];
  /** Peers that must be reachable for this service to be SERVING. */
  peers?: readonly RequiredPeer[];
  /** How often peers are checked (default 2000 ms). */
  peerCheckIntervalMs?: number;
  /** How long a peer check may take (default 1000 ms). */
  peerTimeoutMs?: number;
  log?: Logger;
}

/** The health of one service process, as the health service reports it. */
export interface HealthService {
  /** The grpc-health-check implementation; add it to a grpc-js server with addToServer. */
  readonly implementation: HealthImplementation;
  /** The overall status now. */
  readonly status: ServingStatus;
  /** Adds grpc.health.v1.Health to a grpc-js server (before it binds). */
  addToServer(server: grpc.Server): void;
  /** Marks start-up done: SERVING once peers are reachable. Starts the peer checks. */
  started(): Promise<void>;
  /** Marks the service draining: NOT_SERVING from now on, whatever the peers say. */
  draining(): void;
  /** Checks the peers once now and updates the status. */
  checkPeers(): Promise<boolean>;
  /** Stops the peer checks. */
  close(): void;
}

/** Resolves true when a TCP connection to host:port opens within the timeout. */
export function canConnect(address: string, timeoutMs: number): Promise<boolean> {
  const index = address.lastIndexOf(':');
  const host = address.slice(0, index).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(index + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Creates the health service of one process; NOT_SERVING until started(). */
export function createHealthService(options: HealthServiceOptions): HealthService {
  const names = ['', ...options.services];
  const implementation = new HealthImplementation(Object.fromEntries(names.map((name) => [name, 'NOT_SERVING' as ServingStatus])));
  let phase: 'starting' | 'serving' | 'draining' = 'starting';
  let peersReachable = (options.peers ?? []).length === 0;
  let status: ServingStatus = 'NOT_SERVING';
  let timer: NodeJS.Timeout | undefined;
  const update = () => {
    const next: ServingStatus = phase === 'serving' && peersReachable ? 'SERVING' : 'NOT_SERVING';
    if (next === status) return;
    status = next;
    options.log?.info({ status, phase, peersReachable }, 'health status changed');
    for (const name of names) implementation.setStatus(name, status);
  };
  const checkPeers = async () => {
    const peers = options.peers ?? [];
    const results = await Promise.all(peers.map((peer) => canConnect(peer.address, options.peerTimeoutMs ?? 1000)));
    const unreachable = peers.filter((_, i) => !results[i]).map((peer) => `${peer.name} at ${peer.address}`);
    if (unreachable.length && peersReachable) options.log?.warn({ unreachable }, 'a required peer is unreachable');
    peersReachable = unreachable.length === 0;
    update();
    return peersReachable;
  };
  return {
    implementation,
    get status() {
      return status;
    },
    addToServer: (server) => implementation.addToServer(server),
    async started() {
      if (phase !== 'starting') return;
      phase = 'serving';
      await checkPeers();
      if ((options.peers ?? []).length && !timer) {
        timer = setInterval(() => void checkPeers(), options.peerCheckIntervalMs ?? 2000);
        timer.unref();
      }
    },
    draining() {
      phase = 'draining';
      update();
    },
    checkPeers,
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
