/**
 * Serves a ServiceRegistry's handlers as HTTP/1.1 JSON (ts-proto's JSON
 * mapping): `POST /<package.Service>/<Method>`, request and response only. A
 * streamed method answers with a JSON array of its events. Errors are JSON
 * `{code, codeName, message, details}` with an HTTP status from grpc-gateway's
 * table (httpStatusFromCode); an unknown path is 404 (code UNIMPLEMENTED),
 * malformed JSON 400, an oversize body 413. Metadata: see rest-headers.ts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { Code, MeshError, codeName, type ErrorDetail } from '@agentmesh/protocol';
import { createLogger } from '../logger';
import { ServiceRegistry } from '../service-registry';
import { createServerCall, statusFromHandlerError } from '../call-context';
import type { CallContext, ServiceDefinition, ServiceImplementation } from '../types';
import { httpStatusFromCode } from './http-status';
import { META_PREFIX, TIMEOUT_HEADER, TRAILER_PREFIX, headersFromMetadata, metadataFromHeaders } from './rest-headers';
import { collectStream, nextCallId, parseHostPort, raceSignal, type TransportServer, type TransportServerOptions } from './transport-server';

/** Options of createRestServer. */
export interface RestServerOptions extends TransportServerOptions {
  /** Largest request body accepted, in bytes (default 4 MiB); larger bodies get 413. */
  maxBodyBytes?: number;
}

/** The JSON body of a REST error response. */
export interface RestErrorBody {
  code: number;
  codeName: string;
  message: string;
  /** Details with base64 values. */
  details: { type: string; value: string }[];
}

/** Creates an HTTP/1.1 JSON server over a (possibly shared) registry. */
export function createRestServer(options: RestServerOptions = {}): TransportServer {
  const registry = options.registry ?? new ServiceRegistry();
  const log: Logger = options.log ?? createLogger('rest-server');
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const maxBuffered = options.maxBuffered ?? 1024;
  const shutdown = new AbortController();
  // Every in-flight call listens on the shutdown signal.
  setMaxListeners(0, shutdown.signal);
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => handle(req, res));
  server.headersTimeout = 65_000;

  const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const sendError = (
    res: http.ServerResponse,
    code: Code,
    message: string,
    details: ErrorDetail[] = [],
    headers: Record<string, string> = {},
    httpStatus = httpStatusFromCode(code),
  ) => {
    const body: RestErrorBody = {
      code,
      codeName: codeName(code),
      message,
      details: details.map((d) => ({ type: d.type, value: Buffer.from(d.value).toString('base64') })),
    };
    sendJson(res, httpStatus, body, headers);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      req.resume();
      return sendError(res, Code.UNIMPLEMENTED, `${req.method} ${path}: agentmesh REST calls are POST /<package.Service>/<Method>`, [], {}, 405);
    }
    const registered = registry.lookup(path);
    if (!registered || registered.method.requestStream) {
      req.resume();
      const offered = registry.list().map((s) => s.fullName).join(', ') || 'none';
      return sendError(res, Code.UNIMPLEMENTED, `no method at ${path} (services offered: ${offered})`, [], {}, 404);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) {
      req.resume();
      res.setHeader('connection', 'close');
      return sendError(res, Code.RESOURCE_EXHAUSTED, `request body of ${declared} bytes exceeds the ${maxBodyBytes}-byte limit`, [], {}, 413);
    }
    const timeoutHeader = req.headers[TIMEOUT_HEADER];
    let deadline: number | undefined;
    if (typeof timeoutHeader === 'string') {
      const ms = Number(timeoutHeader);
      if (!Number.isFinite(ms) || ms < 0) {
        req.resume();
        return sendError(res, Code.INVALID_ARGUMENT, `${TIMEOUT_HEADER} must be a non-negative number of milliseconds, got "${timeoutHeader}"`);
      }
      deadline = Date.now() + ms;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        tooLarge = true;
        chunks.length = 0;
        res.setHeader('connection', 'close');
        sendError(res, Code.RESOURCE_EXHAUSTED, `request body exceeds the ${maxBodyBytes}-byte limit`, [], {}, 413);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (tooLarge) return;
      let request: unknown;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        request = registered.method.requestType.fromJSON(text.trim() === '' ? {} : JSON.parse(text));
      } catch (error) {
        return sendError(res, Code.INVALID_ARGUMENT, `request body of ${path} is not valid JSON for ${registered.method.name}: ${(error as Error).message}`);
      }
      const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      const serverCall = createServerCall({
        method: path,
        callId: nextCallId('rest'),
        metadata: metadataFromHeaders(req.headers),
        deadline,
        peer: { id: remote, address: remote, transport: 'rest' },
        log,
        parentSignal: shutdown.signal,
      });
      const { ctx } = serverCall;
      // The client going away before the response is written is a cancel.
      res.on('close', () => {
        if (!res.writableFinished) serverCall.abort(Code.CANCELLED, 'the caller closed the connection');
      });
      const work = registered.method.responseStream
        ? () =>
            collectStream<unknown>(registered.handler(request, ctx), ctx.signal, maxBuffered).then((items) =>
              items.map((item) => registered.method.responseType.toJSON(item)),
            )
        : () => Promise.resolve(registered.handler(request, ctx)).then((value) => registered.method.responseType.toJSON(value));
      raceSignal(work, ctx.signal)
        .then(
          (body) => sendJson(res, 200, body, responseHeaders(ctx)),
          (error) => {
            const status = statusFromHandlerError(error, ctx.log);
            sendError(res, status.code, status.message, status.details, {
              ...responseHeaders(ctx),
              ...headersFromMetadata(status.metadata, TRAILER_PREFIX),
            });
          },
        )
        .finally(() => serverCall.finish());
    });
  };

  const self: TransportServer = {
    registry,
    register<S extends ServiceDefinition>(service: S, implementation: ServiceImplementation<S>) {
      registry.register(service, implementation);
      return self;
    },
    listen(address: string) {
      const { host, port } = parseHostPort(address);
      return new Promise<number>((resolve, reject) => {
        const onError = (error: Error) => reject(new MeshError(Code.UNAVAILABLE, `rest server could not bind ${address}: ${error.message}`, { cause: error }));
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          log.debug({ address }, 'listening');
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(graceMs = 0) {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        const force = () => {
          shutdown.abort();
          server.closeAllConnections();
        };
        if (graceMs <= 0) force();
        else setTimeout(force, graceMs).unref();
      });
    },
  };
  return self;
}

function responseHeaders(ctx: CallContext): Record<string, string> {
  return { ...headersFromMetadata(ctx.responseHeaders, META_PREFIX), ...headersFromMetadata(ctx.trailers, TRAILER_PREFIX) };
}
