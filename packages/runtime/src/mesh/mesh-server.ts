/**
 * The mesh server: accepts Connect streams and serves the registered agents'
 * methods on each session.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Code, FrameBatch, MeshError } from '@agentmesh/protocol';
import { createLogger } from '../logger';
import { ServiceRegistry } from '../service-registry';
import type { ServiceDefinition, ServiceImplementation } from '../types';
import { Session, defaultSessionLimits, type SessionLimits } from './session';
import { grpcChannelOptions, type MeshPeerOptions } from './mesh-options';

/** Path of the mesh's only gRPC method. */
export const CONNECT_PATH = '/agentmesh.v1.MeshService/Connect';

/** A decoded batch, or the error that stopped it decoding (kept so the session can answer it). */
type Incoming = FrameBatch | { undecodable: unknown };

/** Decodes a batch without throwing, so a bad batch is answered, not fatal. */
export function decodeBatch(buffer: Buffer): Incoming {
  try {
    return FrameBatch.decode(buffer);
  } catch (error) {
    return { undecodable: error };
  }
}

/** Encodes a batch for the wire. */
export function encodeBatch(batch: FrameBatch): Buffer {
  const bytes = FrameBatch.encode(batch).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Options of createMeshServer. */
export interface MeshServerOptions extends MeshPeerOptions {
  /** Sessions accepted at once; further Connects are refused with RESOURCE_EXHAUSTED. */
  maxSessions?: number;
  /** Use an existing grpc-js server (to share its port with other services) instead of a new one. */
  grpcServer?: grpc.Server;
}

/** Counters a mesh server exposes. */
export interface MeshServerStats {
  /** Connect streams accepted since start: one per peer, however many calls it makes. */
  sessionsAccepted: number;
  activeSessions: number;
  activeCalls: number;
  callsServed: number;
}

/** A mesh server. */
export interface MeshServer {
  readonly identity: string;
  readonly registry: ServiceRegistry;
  /** Registers an agent's handlers. */
  register<S extends ServiceDefinition>(service: S, implementation: ServiceImplementation<S>): MeshServer;
  /** Binds and starts; resolves with the bound port ("127.0.0.1:0" picks one). */
  listen(address: string): Promise<number>;
  /** Live sessions. */
  sessions(): Session[];
  stats(): MeshServerStats;
  /** Says goaway on every session, waits up to graceMs for calls to finish, then closes. */
  shutdown(graceMs?: number): Promise<void>;
}

/** Creates a mesh server; register agents on it, then listen. */
export function createMeshServer(options: MeshServerOptions): MeshServer {
  const log: Logger = (options.logger ?? createLogger('mesh-server')).child({ component: 'mesh-server', identity: options.identity });
  const limits: SessionLimits = { ...defaultSessionLimits, ...options.limits };
  const maxSessions = options.maxSessions ?? 1024;
  const registry = new ServiceRegistry();
  const live = new Set<Session>();
  let sessionsAccepted = 0;
  let closedCallsServed = 0;
  const grpcServer = options.grpcServer ?? new grpc.Server(grpcChannelOptions(limits.maxMessageBytes));

  const connect = (call: grpc.ServerDuplexStream<Incoming, FrameBatch>) => {
    if (live.size >= maxSessions) {
      log.warn({ limit: maxSessions, peer: call.getPeer() }, 'refused a session: too many sessions');
      call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: `this server already has ${maxSessions} sessions, the limit` });
      return;
    }
    sessionsAccepted++;
    const session = new Session({
      role: 'acceptor',
      identity: options.identity,
      sessionId: randomUUID(),
      registry,
      limits,
      log,
      channel: {
        write: (batch) => call.write(batch),
        end: () => call.end(),
        remoteAddress: call.getPeer(),
      },
      onClose: (s) => {
        live.delete(s);
        closedCallsServed += s.stats.callsServed;
      },
    });
    live.add(session);
    call.on('data', (incoming: Incoming) => {
      if ('undecodable' in incoming) session.receiveUndecodable(incoming.undecodable);
      else session.receive(incoming);
    });
    call.on('drain', () => session.drained());
    call.on('end', () => session.channelClosed());
    call.on('error', (error) => session.channelClosed(error));
    call.on('cancelled', () => session.channelClosed(new Error('the peer cancelled the stream')));
    call.on('close', () => session.channelClosed());
  };

  grpcServer.addService(
    {
      connect: {
        path: CONNECT_PATH,
        requestStream: true,
        responseStream: true,
        requestSerialize: encodeBatch,
        requestDeserialize: decodeBatch,
        responseSerialize: encodeBatch,
        responseDeserialize: decodeBatch,
      },
    } as grpc.ServiceDefinition,
    { connect } as grpc.UntypedServiceImplementation,
  );

  const server: MeshServer = {
    identity: options.identity,
    registry,
    register(service, implementation) {
      registry.register(service, implementation);
      return server;
    },
    listen(address) {
      return new Promise<number>((resolve, reject) => {
        grpcServer.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
          if (error) {
            reject(new MeshError(Code.UNAVAILABLE, `could not listen on ${address}: ${error.message}`, { cause: error }));
            return;
          }
          log.info({ address, port, services: registry.list().map((s) => s.fullName) }, 'mesh server listening');
          resolve(port);
        });
      });
    },
    sessions: () => [...live],
    stats: () => {
      let activeCalls = 0;
      let callsServed = closedCallsServed;
      for (const s of live) {
        activeCalls += s.activeCalls;
        callsServed += s.stats.callsServed;
      }
      return { sessionsAccepted, activeSessions: live.size, activeCalls, callsServed };
    },
    async shutdown(graceMs = 5_000) {
      for (const s of live) s.goAway('server shutting down', graceMs);
      const until = Date.now() + graceMs;
      while (Date.now() < until && [...live].some((s) => s.activeCalls > 0)) await new Promise((r) => setTimeout(r, 10));
      for (const s of [...live]) s.close(new MeshError(Code.UNAVAILABLE, 'the server shut down'));
      await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      grpcServer.forceShutdown();
    },
  };
  return server;
}
