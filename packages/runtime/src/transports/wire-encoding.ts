/**
 * Binary encodings the non-mesh transports need beyond protobuf itself: a
 * length-prefixed concatenation (a whole stream as one unary message) and the
 * error-details trailer (a MeshError's details on native gRPC).
 */
import { Code, MeshError, type ErrorDetail } from '@agentmesh/protocol';

/** The binary trailer carrying a MeshError's details on native gRPC (our own format, see encodeErrorDetails). */
export const ERROR_DETAILS_TRAILER = 'agentmesh-error-details-bin';

/**
 * Concatenates encoded messages, each prefixed by its length as a 4-byte
 * big-endian unsigned integer, so a whole stream fits in one unary message.
 */
export function encodeLengthPrefixed(messages: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const m of messages) total += 4 + m.length;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const m of messages) {
    out.writeUInt32BE(m.length, offset);
    out.set(m, offset + 4);
    offset += 4 + m.length;
  }
  return out;
}

/** Splits what encodeLengthPrefixed produced; a truncated buffer is DATA_LOSS. */
export function decodeLengthPrefixed(buffer: Uint8Array): Uint8Array[] {
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < view.length) {
    if (offset + 4 > view.length) throw new MeshError(Code.DATA_LOSS, `length-prefixed stream truncated at byte ${offset} of ${view.length}`);
    const length = view.readUInt32BE(offset);
    if (offset + 4 + length > view.length) {
      throw new MeshError(Code.DATA_LOSS, `length-prefixed item of ${length} bytes at byte ${offset} runs past the end (${view.length} bytes)`);
    }
    out.push(view.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return out;
}

/**
 * Encodes error details as length-prefixed pairs: type (UTF-8), then value,
 * each item prefixed as in encodeLengthPrefixed.
 */
export function encodeErrorDetails(details: readonly ErrorDetail[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const d of details) parts.push(Buffer.from(d.type, 'utf8'), d.value);
  return encodeLengthPrefixed(parts);
}

/** Decodes encodeErrorDetails' output; garbage yields no details rather than masking the real error. */
export function decodeErrorDetails(buffer: Uint8Array): ErrorDetail[] {
  try {
    const parts = decodeLengthPrefixed(buffer);
    const out: ErrorDetail[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      out.push({ type: Buffer.from(parts[i]).toString('utf8'), value: Buffer.from(parts[i + 1]) });
    }
    return out;
  } catch {
    return [];
  }
}
