/**
 * Calls agents over HTTP/1.1 JSON (the REST baseline). With `keepAlive` (the
 * `rest` transport) calls reuse pooled connections; without it
 * (`rest-nokeepalive`) every call opens and closes its own TCP connection, the
 * naive case. Streamed methods arrive whole, as a JSON array.
 */
import * as http from 'node:http';
import { Code, MeshError, parseCode } from '@agentmesh/protocol';
import { normalizeMetadata, resolveDeadline } from '../client';
import { methodPath, type CallOptions, type CallTransport, type MethodDefinition, type ServiceDefinition, type StreamControl, type StreamSink } from '../types';
import { codeFromHttpStatus } from './http-status';
import { META_PREFIX, TIMEOUT_HEADER, TRAILER_PREFIX, headersFromMetadata, metadataFromHeaders } from './rest-headers';
import { parseHostPort } from './transport-server';
import { deliverWhole } from './whole-stream';
import type { RestErrorBody } from './rest-server';

/** Options of createRestTransport. */
export interface RestTransportOptions {
  /** Reuse connections (default true); false opens a fresh connection per call. */
  keepAlive?: boolean;
  /** Upper bound on pooled connections (default: unbounded, one per concurrent call). */
  maxSockets?: number;
}

/** Creates a CallTransport that POSTs JSON to a REST server at `address` ("host:port"). */
export function createRestTransport(address: string, options: RestTransportOptions = {}): CallTransport {
  const keepAlive = options.keepAlive ?? true;
  const { host, port } = parseHostPort(address);
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? Infinity, scheduling: 'lifo' }) : undefined;

  // POSTs one call; resolves with the parsed JSON body of a 200 response.
  const post = (service: ServiceDefinition, method: MethodDefinition, request: unknown, options: CallOptions): { promise: Promise<unknown>; cancel(): void } => {
    let req: http.ClientRequest | undefined;
    let cancelled = false;
    const promise = new Promise<unknown>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(signal.reason);
      const deadline = resolveDeadline(options);
      const body = JSON.stringify(method.requestType.toJSON(request));
      const headers: Record<string, string | number> = {
        ...headersFromMetadata(normalizeMetadata(options.metadata)),
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      };
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const onAbort = () => {
        settle(() => reject(signal!.reason));
        req?.destroy();
      };
      if (deadline !== undefined) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) return reject(new MeshError(Code.DEADLINE_EXCEEDED, 'the deadline had passed before the call was sent'));
        headers[TIMEOUT_HEADER] = remaining;
        timer = setTimeout(() => {
          settle(() => reject(new MeshError(Code.DEADLINE_EXCEEDED, `the deadline passed (${methodPath(service, method)})`)));
          req?.destroy();
        }, remaining);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        req = http.request({
          host,
          port,
          method: 'POST',
          path: methodPath(service, method),
          headers: keepAlive ? headers : { ...headers, connection: 'close' },
          agent: agent ?? false,
        });
      } catch (error) {
        // Invalid header values (metadata) surface here.
        return settle(() => reject(new MeshError(Code.INVALID_ARGUMENT, `could not build the request: ${(error as Error).message}`, { cause: error })));
      }
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => settle(() => reject(transportError(error, address))));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headerMetadata = metadataFromHeaders(res.headers, META_PREFIX);
          const trailers = metadataFromHeaders(res.headers, TRAILER_PREFIX);
          settle(() => {
            if (cancelled) return;
            options.onHeaders?.(headerMetadata);
            options.onTrailers?.(trailers);
            if (res.statusCode === 200) {
              try {
                resolve(JSON.parse(text));
              } catch (error) {
                reject(new MeshError(Code.DATA_LOSS, `response of ${methodPath(service, method)} is not valid JSON`, { cause: error }));
              }
              return;
            }
            reject(errorFromResponse(res.statusCode ?? 0, text, trailers));
          });
        });
      });
      req.on('error', (error) => settle(() => reject(transportError(error, address))));
      req.end(body);
    });
    return {
      promise,
      cancel: () => {
        cancelled = true;
        req?.destroy();
      },
    };
  };

  return {
    name: keepAlive ? 'rest' : 'rest-nokeepalive',
    async unary<Req, Res>(service: ServiceDefinition, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions): Promise<Res> {
      const json = await post(service, method, request, options).promise;
      return method.responseType.fromJSON(json);
    },
    stream<Req, Res>(
      service: ServiceDefinition,
      method: MethodDefinition<Req, Res>,
      request: Req,
      options: CallOptions,
      sink: StreamSink<Res>,
    ): StreamControl {
      return deliverWhole(
        post(service, method, request, options),
        (json) => {
          if (!Array.isArray(json)) throw new MeshError(Code.DATA_LOSS, `streamed response of ${methodPath(service, method)} is not a JSON array`);
          return json.map((item) => method.responseType.fromJSON(item));
        },
        sink,
      );
    },
    close: async () => agent?.destroy(),
  };
}

function errorFromResponse(status: number, text: string, trailers: Record<string, string>): MeshError {
  let body: Partial<RestErrorBody> | undefined;
  try {
    body = JSON.parse(text) as Partial<RestErrorBody>;
  } catch {
    body = undefined;
  }
  const code = (typeof body?.code === 'number' ? parseCode(body.code) : undefined) ?? codeFromHttpStatus(status);
  const message = typeof body?.message === 'string' ? body.message : `HTTP ${status}: ${text.slice(0, 200)}`;
  const details = Array.isArray(body?.details)
    ? body!.details.map((d) => ({ type: String(d.type), value: Buffer.from(String(d.value), 'base64') }))
    : [];
  return new MeshError(code, message, { details, metadata: trailers });
}

// Platform errors become codes here, at the transport edge.
function transportError(error: NodeJS.ErrnoException, address: string): MeshError {
  const unavailable = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT'];
  const code = error.code && unavailable.includes(error.code) ? Code.UNAVAILABLE : Code.UNKNOWN;
  return new MeshError(code, `REST call to ${address} failed: ${error.message}`, { cause: error });
}
