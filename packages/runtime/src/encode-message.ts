/**
 * How every transport turns a message into bytes: through one protobuf writer
 * for the whole thread, and into a Buffer without a second copy. Encodes are
 * synchronous, so the writer is never shared mid-message; it keeps its grown
 * buffer between encodes, where a fresh writer per message reallocates and
 * copies as it grows.
 */
import { BinaryWriter } from '@agentmesh/protocol';

const writer = new BinaryWriter();

/** Encodes a message of a generated type (anything with `encode(message, writer)`) into a Buffer of its own. */
export function encodeMessage<T>(type: { encode(message: T, writer?: BinaryWriter): { finish(): Uint8Array } }, message: T): Buffer {
  const bytes = type.encode(message, writer).finish(); // finish() copies out and resets the writer
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
