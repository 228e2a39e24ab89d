/**
 * The mesh client: one long-lived Connect stream per peer address, reused by
 * every call to that peer. A session that ended is replaced on the next call.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Code, MeshError, type FrameBatch } from '@agentmesh/protocol';
import { createLogger } from '../logger';
import { createServiceClient } from '../client';
import { methodPath } from '../types';
import type { CallOptions, CallTransport, MethodDefinition, ServiceClient, ServiceDefinition, StreamControl, StreamSink } from '../types';
import { Session, defaultSessionLimits, type SessionLimits } from './session';
import { CONNECT_PATH, decodeBatch, encodeBatch } from './mesh-server';
import { grpcChannelOptions, type MeshPeerOptions } from './mesh-options';

/** Options of createMeshClient. */
export interface MeshClientOptions extends Partial<MeshPeerOptions> {
  /** Extra grpc-js channel options (keepalive, load balancing). */
  channelOptions?: grpc.ChannelOptions;
}

/** A pool of mesh sessions keyed by peer address. */
export interface MeshClient {
  /** A typed client for a service at an address; calls share that address's session. */
  client<S extends ServiceDefinition>(service: S, address: string): ServiceClient<S>;
  /** A CallTransport to an address, for code that is transport-agnostic. */
  transport(address: string): CallTransport;
  /** The current session to an address, opening one if needed. */
  session(address: string): Session;
  /** Closes every session and channel. */
  close(): Promise<void>;
}

interface PooledPeer {
  channel: grpc.Client;
  session: Session | undefined;
}

/** Creates a mesh client pool. */
export function createMeshClient(options: MeshClientOptions = {}): MeshClient {
  const identity = options.identity ?? `client-${process.pid}`;
  const log: Logger = (options.logger ?? createLogger('mesh-client')).child({ component: 'mesh-client', identity });
  const limits: SessionLimits = { ...defaultSessionLimits, ...options.limits };
  const peers = new Map<string, PooledPeer>();
  let closed = false;

  const openSession = (address: string, peer: PooledPeer): Session => {
    const stream = peer.channel.makeBidiStreamRequest<FrameBatch, ReturnType<typeof decodeBatch>>(CONNECT_PATH, encodeBatch, decodeBatch);
    const session = new Session({
      role: 'dialer',
      identity,
      limits,
      log: log.child({ peerAddress: address }),
      channel: {
        write: (batch) => stream.write(batch),
        end: () => {
          stream.end();
          stream.cancel();
        },
        remoteAddress: address,
      },
      onClose: (s) => {
        if (peer.session === s) peer.session = undefined;
      },
    });
    stream.on('data', (incoming) => {
      if ('undecodable' in incoming) session.receiveUndecodable(incoming.undecodable);
      else session.receive(incoming);
    });
    stream.on('drain', () => session.drained());
    stream.on('error', (error) => session.channelClosed(error));
    stream.on('end', () => session.channelClosed());
    stream.on('status', (status: grpc.StatusObject) => {
      if (status.code !== grpc.status.OK) session.channelClosed(new Error(status.details));
    });
    return session;
  };

  const sessionFor = (address: string): Session => {
    if (closed) throw new MeshError(Code.UNAVAILABLE, 'the mesh client is closed');
    let peer = peers.get(address);
    if (!peer) {
      peer = {
        channel: new grpc.Client(address, grpc.credentials.createInsecure(), {
          ...grpcChannelOptions(limits.maxMessageBytes),
          ...options.channelOptions,
        }),
        session: undefined,
      };
      peers.set(address, peer);
    }
    if (!peer.session || !peer.session.isOpen || peer.session.isDraining) {
      // A draining session finishes its calls; new calls go to a new one.
      peer.session = openSession(address, peer);
    }
    return peer.session;
  };

  const transport = (address: string): CallTransport => ({
    name: 'mesh',
    unary<Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, callOptions: CallOptions) {
      let session: Session;
      try {
        session = sessionFor(address);
      } catch (error) {
        return Promise.reject(error);
      }
      return session.unary(methodPath(service, method), method, request, callOptions);
    },
    stream<Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, callOptions: CallOptions, sink: StreamSink<Res>): StreamControl {
      let session: Session;
      try {
        session = sessionFor(address);
      } catch (error) {
        sink.error(error);
        return { cancel: () => undefined, consumed: () => undefined };
      }
      return session.stream(methodPath(service, method), method, request, callOptions, sink);
    },
    close: async () => {
      const peer = peers.get(address);
      peer?.session?.close();
      peer?.channel.close();
      peers.delete(address);
    },
  });

  return {
    client: (service, address) => createServiceClient(service, transport(address)),
    transport,
    session: sessionFor,
    async close() {
      closed = true;
      for (const peer of peers.values()) {
        peer.session?.close(new MeshError(Code.CANCELLED, 'the mesh client was closed'));
        peer.channel.close();
      }
      peers.clear();
    },
  };
}

/** A standalone mesh transport to one address (its own pool), for transport-agnostic code and the bench. */
export function createMeshTransport(address: string, options: MeshClientOptions = {}): CallTransport {
  const pool = createMeshClient(options);
  const inner = pool.transport(address);
  return { ...inner, close: () => pool.close() };
}
