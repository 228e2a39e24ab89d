/**
 * The HTTP endpoint Prometheus scrapes: `GET /metrics` on its own port, apart
 * from the agent's transports so scraping never competes with calls. `GET
 * /healthz` answers 200 or 503 from the same readiness the gRPC health service reports.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** Options of startMetricsServer. */
export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  /** Readiness for /healthz; always ready when omitted. */
  ready?: () => boolean;
  log?: Logger;
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

/** Serves /metrics (and /healthz) over HTTP; resolves once it listens. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': options.registry.contentType });
          response.end(text);
        },
        (error: unknown) => {
          options.log?.error({ err: error }, 'metrics collection failed');
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end('metrics collection failed\n');
        },
      );
      return;
    }
    if (request.method === 'GET' && path === '/healthz') {
      const ready = options.ready?.() ?? true;
      response.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(ready ? 'SERVING\n' : 'NOT_SERVING\n');
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found: try GET /metrics\n');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.log?.debug({ port }, 'metrics endpoint listening');
  return {
    port,
    address: `${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
