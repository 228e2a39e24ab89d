/**
 * Conversions between agentmesh's plain string metadata and grpc-js Metadata,
 * and between a grpc-js status and a MeshError. Shared by the grpc server and
 * client so both ends read the same keys.
 */
import * as grpc from '@grpc/grpc-js';
import { Code, MeshError, type ErrorDetail } from '@agentmesh/protocol';
import { ERROR_DETAILS_TRAILER, decodeErrorDetails, encodeErrorDetails } from './wire-encoding';

// Headers HTTP/2 and grpc-js add themselves: not application metadata.
const RESERVED = new Set(['user-agent', 'content-type', 'te', 'host', 'accept-encoding']);

/** Application metadata of a grpc-js Metadata: string values only, without grpc-* and transport headers. */
export function recordFromMetadata(metadata: grpc.Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!metadata) return out;
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value !== 'string' || key.startsWith('grpc-') || key.startsWith(':') || RESERVED.has(key)) continue;
    out[key] = value;
  }
  return out;
}

/** grpc-js Metadata from plain metadata; keys ending in -bin carry their value's UTF-8 bytes. */
export function metadataFromRecord(record: Record<string, string> | undefined, details?: readonly ErrorDetail[]): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (record) {
    for (const [key, value] of Object.entries(record)) {
      const lower = key.toLowerCase();
      if (lower.endsWith('-bin')) metadata.set(lower, Buffer.from(value, 'utf8'));
      else metadata.set(lower, value);
    }
  }
  if (details && details.length > 0) metadata.set(ERROR_DETAILS_TRAILER, encodeErrorDetails(details));
  return metadata;
}

/** The MeshError a caller sees for a non-OK grpc-js status, details decoded from our trailer. */
export function errorFromGrpcStatus(status: { code: number; details: string; metadata?: grpc.Metadata }): MeshError {
  const raw = status.metadata?.get(ERROR_DETAILS_TRAILER)[0];
  const details = raw instanceof Buffer ? decodeErrorDetails(raw) : [];
  const code = status.code in Code ? (status.code as Code) : Code.UNKNOWN;
  return new MeshError(code, status.details || `call failed with status ${status.code}`, {
    details,
    metadata: recordFromMetadata(status.metadata),
  });
}
