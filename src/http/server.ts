import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { MailgrantError } from '../shared/errors.js';
import type { HealthCheck } from './health.js';

export interface HttpServer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The bound address once started (port 0 asks the system for a free port). */
  address(): { host: string; port: number } | null;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  health: HealthCheck;
  metrics: Pick<Metrics, 'render' | 'registry'>;
  logger: Logger;
}

/**
 * The operations listener: `/healthz` for load balancers and orchestrators, `/metrics` for
 * Prometheus. Read-only, no request body, nothing about requests or people: it can be exposed
 * to a monitoring network without exposing the ledger.
 */
export function createHttpServer(o: HttpServerOptions): HttpServer {
  const log = o.logger.child({ component: 'http' });
  let bound: { host: string; port: number } | null = null;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      const report = await o.health.check();
      const body = `${JSON.stringify(report)}\n`;
      res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (path === '/metrics') {
      const body = await o.metrics.render();
      res.writeHead(200, { 'content-type': o.metrics.registry.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /healthz or /metrics\n');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, path: req.url }, 'HTTP request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  // A scraper keeps its connection alive between scrapes; stop() must not wait for it.
  server.keepAliveTimeout = 5_000;

  let started = false;
  let stopping: Promise<void> | null = null;
  return {
    async start() {
      if (started) return;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
          reject(
            new MailgrantError(
              'config_invalid',
              err.code === 'EADDRINUSE'
                ? `HTTP_PORT: ${o.host}:${o.port} is already in use (another Mailgrant?); choose another port or "off".`
                : `HTTP_PORT: cannot listen on ${o.host}:${o.port}: ${err.message}`,
              { cause: err },
            ),
          );
        };
        server.once('error', onError);
        server.listen(o.port, o.host, () => {
          server.off('error', onError);
          resolve();
        });
      });
      started = true;
      const addr = server.address() as AddressInfo;
      bound = { host: addr.address, port: addr.port };
      log.info(bound, 'health and metrics listening (/healthz, /metrics)');
    },
    stop() {
      if (!started) return Promise.resolve();
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).then(() => {
        bound = null;
      });
      return stopping;
    },
    address: () => bound,
  };
}
