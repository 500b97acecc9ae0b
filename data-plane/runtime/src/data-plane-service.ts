import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Pool } from 'pg';
import type { RequestPrincipal } from './data-plane-token.ts';
import type { HostLogger } from './host-logger.ts';
import type { RequestAuthenticator } from './request-authentication.ts';

/**
 * One data-plane service (orchestrator, library, sapiens, payments) inside a tenant's
 * host. The host mounts it at `/{name}/…` and hands it every request under that prefix.
 */
export interface DataPlaneService {
  readonly name: string;
  /**
   * Answers one request. `subpath` is the path below the mount, starting with `/`
   * (`/healthz`, `/v1/documents?…`). A rejection becomes a 500 problem.
   */
  handle(
    request: IncomingMessage,
    response: ServerResponse,
    subpath: string,
    context: DataPlaneRequestContext,
  ): void | Promise<void>;
  /**
   * The service's gRPC services, for a host that serves gRPC (`GRPC_PORT`): called once at
   * the host's start, before the port is bound. A service without it serves HTTP only.
   */
  grpc?(context: DataPlaneGrpcContext): Promise<readonly DataPlaneGrpcService[]>;
  /** Releases what the service holds; called on graceful shutdown. */
  close?(): Promise<void>;
}

/** What the host hands a service for its gRPC services. */
export interface DataPlaneGrpcContext {
  /**
   * The host's token verification: a gRPC call carries the same platform-signed bearer token
   * as an HTTP request (`authorization` metadata), verified for the service it calls.
   */
  authenticator: RequestAuthenticator;
}

/**
 * One gRPC service as `@grpc/grpc-js` serves it (`server.addService(definition,
 * implementation)`); the definition comes from the service's .proto file (`@grpc/proto-loader`).
 */
export interface DataPlaneGrpcService {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/**
 * Who is calling, as the host verified it from the request's signed token. Services decide
 * with this alone: request headers such as `x-citadel-principal` prove nothing.
 */
export interface DataPlaneRequestContext {
  /** Undefined only on the open `/{service}/healthz`; every other request is authenticated. */
  principal: RequestPrincipal | undefined;
  /** The verified token's `jti`; undefined on `/healthz`. */
  tokenId: string | undefined;
  /** The platform's request id (`x-request-id`), for correlating logs. */
  requestId: string | undefined;
}

/** What a service gets from its host: the tenant, and the tenant's own database pool. */
export interface DataPlaneServiceContext {
  tenant: { slug: string; id: string };
  /** Connected as the tenant's own role to the tenant's own database, and nothing else. */
  pool: Pool;
  logger: HostLogger;
  /**
   * The host's environment: each service reads its own settings from it (names start with
   * `CITADEL_`), never from `process.env`, so tests and embedders can hand a service its own.
   */
  environment: Readonly<Record<string, string | undefined>>;
}

/** Builds a service for one tenant's host. */
export type DataPlaneServiceFactory = (context: DataPlaneServiceContext) => DataPlaneService;
