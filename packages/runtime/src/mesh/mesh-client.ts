/**
 * The mesh client: one long-lived Connect stream per peer address, reused by
 * every call to that peer. A dropped stream is resumed by the session itself;
 * a session that cannot resume, or that the peer is draining, is replaced on
 * the next call, and calls that are safe to retry are retried once there.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Code, MeshError, type FrameBatch } from '@agentmesh/protocol';
import { createLogger } from '../logger';
import { createServiceClient } from '../client';
import { methodPath } from '../types';
import type { CallOptions, CallTransport, MethodDefinition, ServiceClient, ServiceDefinition, StreamControl, StreamSink } from '../types';
import { RETRY_SAFE_KEY, SESSION_LOST_KEY, Session, defaultSessionLimits, type FrameChannel, type SessionLimits } from './session';
import { CONNECT_PATH, decodeBatch, encodeBatch } from './mesh-server';
import { grpcChannelOptions, type MeshPeerOptions } from './mesh-options';

/** Options of createMeshClient. */
export interface MeshClientOptions extends Partial<MeshPeerOptions> {
  /** Extra grpc-js channel options. */
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
  /** The session to an address if one is open, without dialing: for reading its stats and RTT. */
  currentSession(address: string): Session | undefined;
  /** Closes every session and channel. */
  close(): Promise<void>;
}

/**
 * True when a failed call may be placed again on a fresh session: it never
 * reached a handler, or it is idempotent and its session was lost.
 */
export function isRetryable(error: unknown, idempotent: boolean): boolean {
  if (!(error instanceof MeshError) || error.code !== Code.UNAVAILABLE) return false;
  if (error.metadata[RETRY_SAFE_KEY] === 'true') return true;
  return idempotent && error.metadata[SESSION_LOST_KEY] === 'true';
}

/** Creates a mesh client pool. */
export function createMeshClient(options: MeshClientOptions = {}): MeshClient {
  const identity = options.identity ?? `client-${process.pid}`;
  const log: Logger = (options.logger ?? createLogger('mesh-client')).child({ component: 'mesh-client', identity });
  const limits: SessionLimits = { ...defaultSessionLimits, ...options.limits };
  const sessions = new Map<string, Session>();
  const channels = new Set<grpc.Client>();
  let closed = false;

  const openSession = (address: string): Session => {
    let grpcClient: grpc.Client | undefined;
    // Each stream gets its own channel, so a reconnect after a silent (blackholed) connection dials a new TCP
    // connection instead of waiting on the dead one.
    const connect = (session: Session): FrameChannel => {
      if (grpcClient) {
        channels.delete(grpcClient);
        grpcClient.close();
      }
      const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
        ...grpcChannelOptions(limits.maxMessageBytes),
        ...options.channelOptions,
      });
      grpcClient = client;
      channels.add(client);
      const stream = client.makeBidiStreamRequest<FrameBatch, ReturnType<typeof decodeBatch>>(CONNECT_PATH, encodeBatch, decodeBatch);
      const channel: FrameChannel = {
        write: (batch) => stream.write(batch),
        end: () => {
          stream.end();
          setTimeout(() => {
            stream.cancel();
            client.close();
            channels.delete(client);
          }, 50).unref();
        },
        destroy: () => stream.cancel(),
        remoteAddress: address,
      };
      stream.on('data', (incoming) => {
        if ('undecodable' in incoming) session.receiveUndecodable(incoming.undecodable, channel);
        else session.receive(incoming, channel);
      });
      stream.on('drain', () => session.drained(channel));
      stream.on('error', (error) => session.channelLost(channel, error));
      stream.on('end', () => session.channelLost(channel));
      return channel;
    };
    return new Session({
      role: 'dialer',
      identity,
      limits,
      log: log.child({ peerAddress: address }),
      connect,
      heartbeat: options.heartbeat,
      resume: options.resume,
      clock: options.clock,
      onEvent: options.onSessionEvent,
      onClose: (s) => {
        if (sessions.get(address) === s) sessions.delete(address);
        if (grpcClient) {
          const c = grpcClient;
          setTimeout(() => {
            c.close();
            channels.delete(c);
          }, 50).unref();
        }
      },
    });
  };

  const sessionFor = (address: string): Session => {
    if (closed) throw new MeshError(Code.UNAVAILABLE, 'the mesh client is closed');
    let session = sessions.get(address);
    if (!session || !session.isOpen || session.isDraining) {
      // A draining session finishes its calls; new calls go to a new one.
      session = openSession(address);
      sessions.set(address, session);
    }
    return session;
  };

  const transport = (address: string): CallTransport => ({
    name: 'mesh',
    unary<Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, callOptions: CallOptions) {
      const path = methodPath(service, method);
      const attempt = (retried: boolean): Promise<Res> => {
        let session: Session;
        try {
          session = sessionFor(address);
        } catch (error) {
          return Promise.reject(error);
        }
        return session.unary(path, method, request, callOptions).catch((error: unknown) => {
          if (retried || !isRetryable(error, callOptions.idempotent ?? false) || callOptions.signal?.aborted) throw error;
          log.debug({ method: path, err: error }, 'retrying a call on a fresh session');
          return attempt(true);
        });
      };
      return attempt(false);
    },
    stream<Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, callOptions: CallOptions, sink: StreamSink<Res>): StreamControl {
      const path = methodPath(service, method);
      let current: StreamControl = { cancel: () => undefined, consumed: () => undefined };
      let cancelled = false;
      const attempt = (retried: boolean) => {
        let delivered = 0;
        let session: Session;
        try {
          session = sessionFor(address);
        } catch (error) {
          sink.error(error);
          return;
        }
        current = session.stream(path, method, request, callOptions, {
          next: (value) => {
            delivered++;
            sink.next(value);
          },
          complete: () => sink.complete(),
          error: (error) => {
            // A stream is retried only before its first event, so no event is ever delivered twice.
            if (!retried && !cancelled && delivered === 0 && isRetryable(error, callOptions.idempotent ?? false)) attempt(true);
            else sink.error(error);
          },
        });
      };
      attempt(false);
      return {
        cancel: (reason) => {
          cancelled = true;
          current.cancel(reason);
        },
        consumed: (count) => current.consumed(count),
      };
    },
    close: async () => {
      sessions.get(address)?.close();
      sessions.delete(address);
    },
  });

  return {
    client: (service, address) => createServiceClient(service, transport(address)),
    transport,
    session: sessionFor,
    currentSession: (address) => sessions.get(address),
    async close() {
      closed = true;
      for (const session of sessions.values()) session.close(new MeshError(Code.CANCELLED, 'the mesh client was closed'));
      sessions.clear();
      await new Promise((resolve) => setTimeout(resolve, 60));
      for (const c of channels) c.close();
      channels.clear();
    },
  };
}

/** A standalone mesh transport to one address (its own pool), for transport-agnostic code and the bench. */
export function createMeshTransport(address: string, options: MeshClientOptions = {}): CallTransport {
  const pool = createMeshClient(options);
  const inner = pool.transport(address);
  return { ...inner, close: () => pool.close() };
}
