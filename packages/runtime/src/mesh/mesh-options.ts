/**
 * Options shared by mesh servers and clients, and the grpc-js channel options
 * derived from them.
 */
import type { Logger } from 'pino';
import type { HeartbeatOptions, ResumeOptions, SessionEvent, SessionLimits, Session } from './session';
import type { Clock } from './clock';

/** Options common to both ends of the mesh. */
export interface MeshPeerOptions {
  /** This peer's identity, sent in its hello ("planner", "conductor"). */
  identity: string;
  logger?: Logger;
  limits?: Partial<SessionLimits>;
  /** Application heartbeats; false turns them off. */
  heartbeat?: Partial<HeartbeatOptions> | false;
  /** Resume after a dropped stream; false makes a drop fail the calls at once. */
  resume?: Partial<ResumeOptions> | false;
  /** Injectable time, for deterministic tests. */
  clock?: Clock;
  /** Called on session events (lost, resumed, rtt, goaway), for metrics. */
  onSessionEvent?(session: Session, event: SessionEvent): void;
}

/**
 * grpc-js channel options for the Connect stream. The gRPC message limit is set
 * above the frame-level limit, so an oversize message is refused per call (with
 * RESOURCE_EXHAUSTED) rather than by grpc-js killing the whole session.
 */
export function grpcChannelOptions(maxMessageBytes: number): Record<string, number> {
  const transportLimit = Math.max(maxMessageBytes * 2, maxMessageBytes + 1024 * 1024);
  return {
    'grpc.max_receive_message_length': transportLimit,
    'grpc.max_send_message_length': transportLimit,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_time_between_pings_ms': 10_000,
  };
}
