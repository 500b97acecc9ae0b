import type {
  DataPlaneGrpcContext,
  DataPlaneGrpcService,
  DataPlaneServiceContext,
  RequestPrincipal,
} from '@citadel/data-plane-runtime';
import {
  createLibraryOutbox,
  outboxSettingsOf,
  type LibraryOutbox,
} from '../outbox/library-outbox.ts';
import type { RetrievalSource } from './library-grpc-handlers.ts';
import { createLibraryGrpcHook } from './library-grpc-hook.ts';

/** The library service's gRPC API and event relay, for `createLibraryServiceFactory` to mount. */
export interface LibraryGrpcService {
  /**
   * Starts the outbox relay (its triggers, marking events published, the purge). Call it once
   * the library is open: it needs the library's schema. Idempotent.
   */
  start(): Promise<void>;
  /** `DataPlaneService.grpc`: the `citadel.library.v1.Library` service (a bound function). */
  readonly grpc: (context: DataPlaneGrpcContext) => Promise<DataPlaneGrpcService[]>;
  /** Ends the event streams and the relay; the library itself is closed by its owner. */
  close(): Promise<void>;
}

/**
 * The gRPC side of one library service instance: its outbox (made on first use, on the
 * tenant's pool, with the retention of `CITADEL_LIBRARY_EVENT_RETENTION_DAYS`) and the gRPC
 * hook reading it. `library` opens the library, as the service does for REST.
 */
export function createLibraryGrpcService(
  context: DataPlaneServiceContext,
  library: () => Promise<RetrievalSource>,
  authorizeEvents?: (caller: RequestPrincipal) => Promise<void>,
): LibraryGrpcService {
  let outbox: LibraryOutbox | undefined;
  // Not at construction: the host creates the tenant's pool on first use only.
  const outboxOf = () =>
    (outbox ??= createLibraryOutbox({
      pool: context.pool,
      logger: context.logger,
      ...outboxSettingsOf(context.environment),
    }));
  return {
    start: () => outboxOf().start(),
    grpc: createLibraryGrpcHook({
      library,
      outbox: { events: (afterId, signal) => outboxOf().events(afterId, signal) },
      tenantId: context.tenant.id,
      logger: context.logger,
      ...(authorizeEvents ? { authorizeEvents } : {}),
    }),
    async close() {
      await outbox?.close();
    },
  };
}
