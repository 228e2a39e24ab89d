/** The mesh: sessions over long-lived Connect streams. */
export { Session, defaultSessionLimits } from './session';
export type { FrameChannel, SessionLimits, SessionOptions, SessionStats } from './session';
export { FrameWriter, frameBytes } from './frame-writer';
export type { FrameWriterOptions } from './frame-writer';
export { createMeshServer, CONNECT_PATH, decodeBatch, encodeBatch } from './mesh-server';
export type { MeshServer, MeshServerOptions, MeshServerStats } from './mesh-server';
export { createMeshClient, createMeshTransport } from './mesh-client';
export type { MeshClient, MeshClientOptions } from './mesh-client';
export type { MeshPeerOptions } from './mesh-options';
