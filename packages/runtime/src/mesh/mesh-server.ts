/**
 * The mesh server: accepts Connect streams and serves the registered agents'
 * methods on each session.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Code, FrameBatch, MeshError, MESH_PROTOCOL_VERSION } from '@agentmesh/protocol';
import { encodeMessage } from '../encode-message';
import { createLogger } from '../logger';
import { ServiceRegistry } from '../service-registry';
import type { ServiceDefinition, ServiceImplementation } from '../types';
import { Session, defaultSessionLimits, type FrameChannel, type HeartbeatOptions, type ResumeOptions, type SessionEvent, type SessionLimits } from './session';
import type { Clock } from './clock';
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
  return encodeMessage(FrameBatch, batch);
}

/** Options of createMeshServer. */
export interface MeshServerOptions extends MeshPeerOptions {
  /** Sessions accepted at once; further Connects are refused with RESOURCE_EXHAUSTED. */
  maxSessions?: number;
  /** Use an existing grpc-js server (to share its port with other services) instead of a new one. */
  grpcServer?: grpc.Server;
  /** Serve these handlers; share one registry to serve the same agents on several transports. */
  registry?: ServiceRegistry;
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
  /**
   * Says goaway on every current session and keeps serving: calls in flight
   * finish, new calls arrive on new sessions. For connection rotation and rebalancing.
   */
  drain(reason?: string): void;
  /** Says goaway on every session, waits up to graceMs for calls to finish, cancels the rest, then stops. */
  shutdown(graceMs?: number): Promise<void>;
}

/** Creates a mesh server; register agents on it, then listen. */
export function createMeshServer(options: MeshServerOptions): MeshServer {
  const log: Logger = (options.logger ?? createLogger('mesh-server')).child({ component: 'mesh-server', identity: options.identity });
  const limits: SessionLimits = { ...defaultSessionLimits, ...options.limits };
  const maxSessions = options.maxSessions ?? 1024;
  const registry = options.registry ?? new ServiceRegistry();
    let sessionsAccepted = 0;
  let closedCallsServed = 0;
  /** Set by shutdown(): sessions already here may finish (and resume), new ones are refused. */
  let shuttingDown = false;
  const grpcServer = options.grpcServer ?? new grpc.Server(grpcChannelOptions(limits.maxMessageBytes));

  const sessionsById = new Map<string, Session>();
  const refuse = (call: grpc.ServerDuplexStream<Incoming, FrameBatch>, code: Code, message: string) => {
    log.warn({ peer: call.getPeer(), code: Code[code] }, `refused a mesh stream: ${message}`);
    call.write({ frames: [{ callId: 0, seq: 0, kind: { $case: 'close', close: { code, message, details: [], trailers: {}, payload: Buffer.alloc(0), hasPayload: false } } }] });
    call.end();
  };

  const connect = (call: grpc.ServerDuplexStream<Incoming, FrameBatch>) => {
    let session: Session | undefined;
    const channel: FrameChannel = {
      write: (batch) => call.write(batch),
      end: () => call.end(),
      destroy: () => call.end(),
      remoteAddress: call.getPeer(),
    };
    const deliver = (incoming: Incoming) => {
      if ('undecodable' in incoming) session!.receiveUndecodable(incoming.undecodable, channel);
      else session!.receive(incoming, channel);
    };
    call.on('data', (incoming: Incoming) => {
      if (session) return deliver(incoming);
      if ('undecodable' in incoming) return refuse(call, Code.INVALID_ARGUMENT, 'the first frame batch could not be decoded');
      const first = incoming.frames[0];
      if (first?.kind?.$case !== 'hello') return refuse(call, Code.FAILED_PRECONDITION, 'the first frame on a mesh stream must be hello');
      const hello = first.kind.hello;
      if (hello.sessionId) {
        const existing = sessionsById.get(hello.sessionId);
        if (!existing || !existing.isOpen) {
          // Unknown (restarted or expired): say so in a hello, so the dialer fails its calls with a clear reason.
          log.info({ session: hello.sessionId, peer: hello.peerId }, 'a peer asked to resume a session this server does not have');
          call.write({ frames: [{ callId: 0, seq: 0, kind: { $case: 'hello', hello: { peerId: options.identity, protocolVersion: MESH_PROTOCOL_VERSION, sessionId: '', lastReceivedSeq: 0, initialWindow: limits.initialWindow, maxMessageBytes: limits.maxMessageBytes, resumed: false } } }] });
          call.end();
          return;
        }
        if (!existing.resumeOn(channel, hello)) return;
        session = existing;
        if (incoming.frames.length > 1) deliver({ frames: incoming.frames.slice(1) });
        return;
      }
      if (shuttingDown) return refuse(call, Code.UNAVAILABLE, `${options.identity} is shutting down; place the call elsewhere`);
      if (sessionsById.size >= maxSessions) return refuse(call, Code.RESOURCE_EXHAUSTED, `this server already has ${maxSessions} sessions, the limit`);
      sessionsAccepted++;
      const created = new Session({
        role: 'acceptor',
        identity: options.identity,
        sessionId: randomUUID(),
        registry,
        limits,
        log,
        channel,
        heartbeat: options.heartbeat,
        resume: options.resume,
        clock: options.clock,
        onEvent: options.onSessionEvent,
        onClose: (s) => {
          sessionsById.delete(s.sessionId);
          closedCallsServed += s.stats.callsServed;
        },
      });
      session = created;
      sessionsById.set(created.sessionId, created);
      deliver(incoming);
    });
    call.on('drain', () => session?.drained(channel));
    call.on('end', () => session?.channelLost(channel));
    call.on('error', (error) => session?.channelLost(channel, error));
    call.on('cancelled', () => session?.channelLost(channel, new Error('the peer cancelled the stream')));
    call.on('close', () => session?.channelLost(channel));
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
    sessions: () => [...sessionsById.values()],
    stats: () => {
      let activeCalls = 0;
      let callsServed = closedCallsServed;
      for (const s of sessionsById.values()) {
        activeCalls += s.activeCalls;
        callsServed += s.stats.callsServed;
      }
      return { sessionsAccepted, activeSessions: sessionsById.size, activeCalls, callsServed };
    },
    drain(reason = 'draining') {
      for (const s of sessionsById.values()) s.goAway(reason);
      log.info({ sessions: sessionsById.size, reason }, 'draining sessions');
    },
    async shutdown(graceMs = 5_000) {
      log.info({ graceMs }, 'shutting down: goaway to every session');
      shuttingDown = true;
      for (const s of sessionsById.values()) s.goAway('server shutting down', graceMs);
      const until = Date.now() + graceMs;
      while (Date.now() < until && [...sessionsById.values()].some((s) => s.activeCalls > 0)) await new Promise((r) => setTimeout(r, 10));
      for (const s of [...sessionsById.values()]) s.close(new MeshError(Code.UNAVAILABLE, `${options.identity} shut down; calls still running after the ${graceMs} ms grace period were cancelled`));
      await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      grpcServer.forceShutdown();
    },
  };
  return server;
}
