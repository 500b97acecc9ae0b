import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** What `/readyz` answers: ready, or why not. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface OperatorHttpServerOptions {
  registry: Registry;
  readiness(): Readiness;
  host: string;
  /** 8081 in the cluster (the platform's Service and probes point there); 0 = any free port. */
  port: number;
}

export interface OperatorHttpServer {
  /** The port it listens on (the one chosen when 0 was asked). */
  port: number;
  close(): Promise<void>;
}

/**
 * The operator's own HTTP endpoint: `/metrics` (Prometheus text format), `/healthz` (the
 * process answers) and `/readyz` (it reaches the API server; a follower is ready too, since
 * it is ready to lead).
 */
export async function startOperatorHttpServer(
  options: OperatorHttpServerOptions,
): Promise<OperatorHttpServer> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://operator').pathname;
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/healthz': {
        send(200, 'ok\n');
        return;
      }
      case '/readyz': {
        const readiness = options.readiness();
        send(readiness.ready ? 200 : 503, `${readiness.reason}\n`);
        return;
      }
      case '/metrics':
        options.registry.metrics().then(
          (text) => send(200, text, options.registry.contentType),
          (error: unknown) => send(500, `${String(error)}\n`),
        );
        return;
      default: {
        send(404, 'not found\n');
        return;
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
