import type {
  DataPlaneGrpcContext,
  DataPlaneGrpcService,
  HostLogger,
  RequestPrincipal,
} from '@citadel/data-plane-runtime';
import type { LibraryOutbox } from '../outbox/library-outbox.ts';
import type { LibraryGrpcHandlersOptions, RetrievalSource } from './library-grpc-handlers.ts';

export interface LibraryGrpcHookOptions {
  /** Opens the library (its schema, once): awaited by every call. */
  library: () => Promise<RetrievalSource>;
  /** The service instance's outbox: `StreamEvents` reads it. */
  outbox: Pick<LibraryOutbox, 'events'>;
  tenantId: string;
  logger: HostLogger;
  /** See `LibraryGrpcHandlersOptions.authorizeEvents`. */
  authorizeEvents?: (caller: RequestPrincipal) => Promise<void>;
}

/**
 * `DataPlaneService.grpc` for the library: the `citadel.library.v1.Library` service. gRPC,
 * the .proto and the handlers are loaded when the host asks (a host given `GRPC_PORT`, at
 * its start), so a library serving HTTP alone never loads them.
 */
export function createLibraryGrpcHook(
  options: LibraryGrpcHookOptions,
): (context: DataPlaneGrpcContext) => Promise<DataPlaneGrpcService[]> {
  return async ({ authenticator }) => {
    const [{ loadLibraryGrpcDefinition }, { createLibraryGrpcHandlers }] = await Promise.all([
      import('./library-grpc-definition.ts'),
      import('./library-grpc-handlers.ts'),
    ]);
    const handlers: LibraryGrpcHandlersOptions = {
      library: {
        retrieve: async (request, caller) => (await options.library()).retrieve(request, caller),
      },
      events: {
        async *events(afterId, signal) {
          await options.library();
          yield* options.outbox.events(afterId, signal);
        },
      },
      authenticator,
      tenantId: options.tenantId,
      logger: options.logger,
      ...(options.authorizeEvents ? { authorizeEvents: options.authorizeEvents } : {}),
    };
    return [
      {
        definition: loadLibraryGrpcDefinition(),
        implementation: createLibraryGrpcHandlers(handlers),
      },
    ];
  };
}
