import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'pg';
import type { HostLogger } from './host-logger.ts';

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
  handle(request: IncomingMessage, response: ServerResponse, subpath: string): void | Promise<void>;
  /** Releases what the service holds; called on graceful shutdown. */
  close?(): Promise<void>;
}

/** What a service gets from its host: the tenant, and the tenant's own database pool. */
export interface DataPlaneServiceContext {
  tenant: { slug: string; id: string };
  /** Connected as the tenant's own role to the tenant's own database, and nothing else. */
  pool: Pool;
  logger: HostLogger;
}

/** Builds a service for one tenant's host. */
export type DataPlaneServiceFactory = (context: DataPlaneServiceContext) => DataPlaneService;
