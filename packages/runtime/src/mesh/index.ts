/** The mesh: sessions over long-lived Connect streams. */
export { Session, defaultSessionLimits, defaultHeartbeat, defaultResume, SESSION_LOST_KEY, RETRY_SAFE_KEY } from './session';
export type { FrameChannel, HeartbeatOptions, ResumeOptions, SessionEvent, SessionLimits, SessionOptions, SessionStats } from './session';
export { FrameWriter, frameBytes } from './frame-writer';
export type { FrameWriterOptions } from './frame-writer';
export { backoffDelay, defaultBackoff, systemClock } from './clock';
export type { BackoffOptions, Clock } from './clock';
export { createMeshServer, CONNECT_PATH, decodeBatch, encodeBatch } from './mesh-server';
export type { MeshServer, MeshServerOptions, MeshServerStats } from './mesh-server';
export { createMeshClient, createMeshTransport, isRetryable } from './mesh-client';
export type { MeshClient, MeshClientOptions } from './mesh-client';
export type { MeshPeerOptions } from './mesh-options';
