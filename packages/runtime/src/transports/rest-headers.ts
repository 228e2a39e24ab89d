/**
 * How the REST transport carries metadata, deadlines and trailers in HTTP/1.1
 * headers. Request metadata `k` travels as `x-agentmesh-meta-k`, except the W3C
 * trace headers (`traceparent`, `tracestate`) which travel as themselves so
 * tracing tools see them. Response headers travel the same way; trailers (the
 * body is buffered, so they are known before it is sent) as
 * `x-agentmesh-trailer-k`. The deadline is `x-agentmesh-timeout-ms`.
 */
export const META_PREFIX = 'x-agentmesh-meta-';
export const TRAILER_PREFIX = 'x-agentmesh-trailer-';
export const TIMEOUT_HEADER = 'x-agentmesh-timeout-ms';
const PLAIN = new Set(['traceparent', 'tracestate']);

/** HTTP headers for metadata, under a prefix (plain for the trace headers). */
export function headersFromMetadata(metadata: Record<string, string>, prefix: string = META_PREFIX): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) out[PLAIN.has(key) && prefix === META_PREFIX ? key : prefix + key] = value;
  return out;
}

/** Metadata from HTTP headers under a prefix (and the plain trace headers). */
export function metadataFromHeaders(headers: Record<string, string | string[] | undefined>, prefix: string = META_PREFIX): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = text;
    else if (prefix === META_PREFIX && PLAIN.has(key)) out[key] = text;
  }
  return out;
}
