import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as Grpc from '@grpc/grpc-js';
import type pg from 'pg';
import type {
  DataPlaneRequestContext,
  DataPlaneService,
  DataPlaneServiceFactory,
} from './data-plane-service.ts';
import type { HostLogger } from './host-logger.ts';
import { sendJson, sendProblem } from './problem-response.ts';
import type { AuthenticationResult, RequestAuthenticator } from './request-authentication.ts';

const { createRequire } = process.getBuiltinModule('node:module');
const require = createRequire(import.meta.url);

// `import … from 'node:http'` builds an ES module namespace, which reads every export of
// http, lazy ones included (its WebSocket exports load undici): ~35 ms of CPU on each host
// start, the largest share of it. The CommonJS module object costs ~4 ms.
const { createServer } = process.getBuiltinModule('node:http');

export interface DataPlaneHostOptions {
  tenantSlug: string;
  tenantId: string;
  /** The tenant's own role on the tenant's own database; the host gets no other credentials. */
  databaseUrl: string;
  /** Enabled services (`CITADEL_SERVICES`). */
  services: readonly string[];
  logger: HostLogger;
  /** Verifies the signed token of every request but the health checks. */
  authenticator: RequestAuthenticator;
  /** The services this build can run, by name; defaults to none. */
  serviceFactories?: Readonly<Record<string, DataPlaneServiceFactory>>;
  /** Pool size; the tenant role's CONNECTION LIMIT must leave room for it. Default 5. */
  maxDatabaseConnections?: number;
  /** How long `/healthz` waits for the database. Default 2000 ms. */
  healthTimeoutMs?: number;
  /**
   * The host's environment as services read their own settings from it (`CITADEL_LIBRARY_…`,
   * the tenant's data keys…). Default: none.
   */
  environment?: Readonly<Record<string, string | undefined>>;
}

export interface DataPlaneHost {
  readonly server: Server;
  /** The tenant's database pool, shared by all its services. */
  readonly pool: pg.Pool;
  /** Listens on `host` (default 127.0.0.1) and resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /**
   * Serves the gRPC services of every mounted service (`DataPlaneService.grpc`, which loads
   * lazy services now) on `host` (default 127.0.0.1), plaintext like the HTTP server behind
   * it; resolves with the bound port. gRPC is loaded here, never by a host that does not
   * call this. Calls are authenticated by each service with the host's authenticator.
   */
  listenGrpc(port: number, host?: string): Promise<number>;
  /** Stops accepting, lets requests in flight finish, closes services and the pool. */
  close(): Promise<void>;
}

/** The body of `GET /healthz`. */
export interface HostHealth {
  status: 'ok' | 'degraded';
  tenant: { slug: string; id: string };
  database:
    | { connected: true; user: string; database: string; latencyMs: number }
    | { connected: false; error: string };
  services: { enabled: string[]; deployed: string[] };
  /** Present when the host serves gRPC: its bound port and fully qualified service names. */
  grpc?: { port: number; services: string[] };
}

/** Seconds a caller should wait when the platform's keys cannot be fetched. */
const KEYS_RETRY_AFTER_SECONDS = 5;
/** How long a closing host lets gRPC calls in flight finish before cancelling them. */
const GRPC_SHUTDOWN_GRACE_MS = 2_000;

/** `/{service}/rest`: the mount name and the path below it. */
function splitServicePath(path: string): { name: string | undefined; rest: string } {
  const match = /^\/([^/]+)(\/.*)?$/.exec(path);
  return { name: match?.[1], rest: match?.[2] ?? '/' };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** 401 with an RFC 6750 challenge, or 503 when the platform's keys are out of reach. */
function sendRefusal(
  response: ServerResponse,
  failure: Extract<AuthenticationResult, { ok: false }>,
): void {
  if (failure.reason === 'keys-unavailable') {
    sendProblem(
      response,
      {
        type: 'token-keys-unavailable',
        title: 'Token keys unavailable',
        status: 503,
        detail: failure.detail,
      },
      { 'retry-after': String(KEYS_RETRY_AFTER_SECONDS) },
    );
    return;
  }
  const challenge = failure.reason === 'missing-token' ? 'Bearer' : 'Bearer error="invalid_token"';
  sendProblem(
    response,
    {
      type: 'unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail: failure.detail,
      reason: failure.reason,
    },
    { 'www-authenticate': challenge },
  );
}

/**
 * One tenant's data plane: a bare `node:http` server (no framework, for start time and
 * throughput) answering `/healthz` and mounting each enabled service at `/{service}/…`.
 * Every request but the health checks must carry a token the platform signed for this
 * tenant and that service; the service gets the verified principal, never a header's word.
 * `GET /{service}/whoami` answers that principal, so a caller can check its credentials.
 */
export function createDataPlaneHost(options: DataPlaneHostOptions): DataPlaneHost {
  const { tenantSlug, tenantId, logger } = options;
  const tenant = { slug: tenantSlug, id: tenantId };
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
  const database = createLazyPool(
    {
      connectionString: options.databaseUrl,
      max: options.maxDatabaseConnections ?? 5,
      // Hosts are many and mostly idle: give connections back to the shared server soon.
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: healthTimeoutMs,
      application_name: `citadel-host:${tenantSlug}`,
    },
    logger,
  );

  const enabled = new Set(options.services);
  const factories = options.serviceFactories ?? {};
  const mounted = new Map<string, DataPlaneService>();
  for (const name of enabled) {
    const factory = factories[name];
    if (factory) {
      mounted.set(
        name,
        factory({
          tenant,
          get pool() {
            return database.pool();
          },
          logger,
          environment: options.environment ?? {},
        }),
      );
    }
  }

  let grpc: { server: Grpc.Server; port: number; services: string[] } | undefined;

  const health = async (): Promise<HostHealth> => {
    const services = { enabled: [...enabled], deployed: [...mounted.keys()] };
    const served = grpc ? { grpc: { port: grpc.port, services: grpc.services } } : {};
    const started = performance.now();
    try {
      const { rows } = await withTimeout(
        database
          .pool()
          .query<{ user: string; database: string }>(
            'SELECT current_user AS "user", current_database() AS "database"',
          ),
        healthTimeoutMs,
      );
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      const row = rows[0] ?? { user: '', database: '' };
      return {
        status: 'ok',
        tenant,
        database: { connected: true, ...row, latencyMs },
        services,
        ...served,
      };
    } catch (error) {
      const message = (error as Error).message;
      logger.warn({ error: message }, 'health check could not reach the database');
      return {
        status: 'degraded',
        tenant,
        database: { connected: false, error: message },
        services,
        ...served,
      };
    }
  };

  const serveHealth = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendProblem(
        response,
        { type: 'method-not-allowed', title: 'Method Not Allowed', status: 405 },
        { allow: 'GET, HEAD' },
      );
      return;
    }
    const body = await health();
    sendJson(response, body.status === 'ok' ? 200 : 503, body);
  };

  /** The 404 for a path no service answers: a known service not deployed here, or nothing. */
  const notFound = (response: ServerResponse, path: string, name: string | undefined) => {
    if (name !== undefined && (enabled.has(name) || name in factories)) {
      sendProblem(response, {
        type: 'service-not-deployed',
        title: 'Service not deployed',
        status: 404,
        detail: enabled.has(name)
          ? `The ${name} service is enabled for tenant ${tenantSlug} but not deployed on this host yet.`
          : `The ${name} service is not enabled for tenant ${tenantSlug}.`,
      });
      return;
    }
    sendProblem(response, {
      type: 'not-found',
      title: 'Not Found',
      status: 404,
      detail: `No route for ${path}.`,
    });
  };

  /** Hands the request to the mounted service, or answers the 404. */
  const serve = async (
    request: IncomingMessage,
    response: ServerResponse,
    url: string,
    context: DataPlaneRequestContext,
  ): Promise<void> => {
    const path = url.split('?', 1)[0] ?? '/';
    const { name } = splitServicePath(path);
    const service = name === undefined ? undefined : mounted.get(name);
    if (!service) {
      notFound(response, path, name);
      return;
    }
    // Everything after `/{name}`, query string included.
    await service.handle(request, response, url.slice(service.name.length + 1) || '/', context);
  };

  /** The verified caller, or undefined once the refusal is sent. */
  const authenticate = async (
    request: IncomingMessage,
    response: ServerResponse,
    service: string | undefined,
  ): Promise<AuthenticationResult | undefined> => {
    const result =
      service === undefined
        ? ({ ok: false, reason: 'wrong-audience', detail: 'No service in the path.' } as const)
        : await options.authenticator.authenticate(request.headers.authorization, service);
    if (result.ok) return result;
    if (result.reason === 'keys-unavailable') {
      logger.warn({ service }, 'platform signing keys unavailable; refusing requests');
    }
    sendRefusal(response, result);
    return undefined;
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = request.url ?? '/';
    const path = url.split('?', 1)[0] ?? '/';
    if (path === '/healthz') {
      await serveHealth(request, response);
      return;
    }
    const { name, rest } = splitServicePath(path);
    const requestId = headerValue(request.headers['x-request-id']);
    if (rest === '/healthz') {
      await serve(request, response, url, { principal: undefined, tokenId: undefined, requestId });
      return;
    }
    const verified = await authenticate(request, response, name);
    if (!verified?.ok) return;
    const { principal, tokenId } = verified.request;
    if (rest === '/whoami' && name !== undefined && enabled.has(name)) {
      sendJson(response, 200, { tenant, service: name, principal, tokenId });
      return;
    }
    await serve(request, response, url, { principal, tokenId, requestId });
  };

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      logger.error({ error, url: request.url, method: request.method }, 'request failed');
      if (response.headersSent) {
        response.destroy();
        return;
      }
      sendProblem(response, { type: 'internal', title: 'Internal Server Error', status: 500 });
    });
  });

  return {
    server,
    get pool() {
      return database.pool();
    },
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    async listenGrpc(port, host = '127.0.0.1') {
      if (grpc) throw new Error('The host already serves gRPC.');
      const grpcJs = await import('@grpc/grpc-js');
      const grpcServer = new grpcJs.Server();
      const names: string[] = [];
      for (const service of mounted.values()) {
        for (const served of (await service.grpc?.({ authenticator: options.authenticator })) ??
          []) {
          grpcServer.addService(served.definition, served.implementation);
          names.push(...serviceNamesOf(served.definition));
        }
      }
      const bound = await bindGrpc(
        grpcServer,
        grpcJs.ServerCredentials.createInsecure(),
        port,
        host,
      );
      grpc = { server: grpcServer, port: bound, services: [...new Set(names)] };
      return bound;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Stops taking calls now; the services' close below ends their streams.
      const grpcClosed = grpc ? shutdownGrpc(grpc.server, GRPC_SHUTDOWN_GRACE_MS) : undefined;
      await closed;
      await Promise.allSettled(
        [...mounted.values()].map(async (service) => {
          await service.close?.();
        }),
      );
      await grpcClosed;
      await database.end();
    },
  };
}

/** `citadel.library.v1.Library` of a definition's method paths (`/citadel.library.v1.Library/Retrieve`). */
function serviceNamesOf(definition: Grpc.ServiceDefinition): string[] {
  return Object.values(definition).map((method) => method.path.split('/')[1] ?? '');
}

/** Binds `host:port` (brackets around an IPv6 address) and resolves with the bound port. */
function bindGrpc(
  server: Grpc.Server,
  credentials: Grpc.ServerCredentials,
  port: number,
  host: string,
): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
}

/** Lets calls in flight finish for `graceMs`, then cancels what remains. */
async function shutdownGrpc(server: Grpc.Server, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
  });
  await Promise.race([graceful, timedOut]);
  clearTimeout(timer);
}

/**
 * The tenant's pool, created on first use. Loading pg costs ~12 ms of CPU, and a burst of
 * tenant creations starts many hosts at once, none of which needs its database until
 * its first request; `require` (not `import`) lets the load happen synchronously then.
 */
function createLazyPool(
  config: pg.PoolConfig,
  logger: HostLogger,
): { pool(): pg.Pool; end(): Promise<void> } {
  let pool: pg.Pool | undefined;
  return {
    pool() {
      if (!pool) {
        const { Pool } = require('pg') as typeof pg;
        pool = new Pool(config);
        // An idle connection dropped by the server (restart, suspension) must not kill the host.
        pool.on('error', (error) => {
          logger.warn({ error: error.message }, 'idle database connection lost');
        });
      }
      return pool;
    },
    async end() {
      await pool?.end();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`database did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
