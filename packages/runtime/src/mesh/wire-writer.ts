/**
 * One protobuf writer for every encode on this thread. Encodes are synchronous,
 * so it is never shared mid-message, and it keeps its grown buffer between
 * encodes: a fresh writer per message reallocates and copies as it grows.
 */
import { BinaryWriter } from '@agentmesh/protocol';

/** The shared writer; pass it to a generated `encode(message, writer)` and call `finish()` at once. */
export const wireWriter = new BinaryWriter();
