import type {
  DataPlaneService,
  DataPlaneServiceContext,
  DataPlaneServiceFactory,
} from './data-plane-service.ts';

/**
 * A factory whose module is imported on the service's first request, not at the host's
 * start: a tenant host starts in ~100 ms, and a service's dependencies (the library's
 * parsers and tokenizer) would multiply that for tenants that never call it. A host that
 * serves gRPC imports it at its start, to register the service's gRPC methods.
 */
function lazyFactory(
  name: string,
  load: () => Promise<DataPlaneServiceFactory>,
): DataPlaneServiceFactory {
  return (context: DataPlaneServiceContext): DataPlaneService => {
    let service: Promise<DataPlaneService> | undefined;
    const loaded = () => {
      service ??= load()
        .then((factory) => factory(context))
        .catch((error: unknown) => {
          service = undefined;
          throw error;
        });
      return service;
    };
    return {
      name,
      async handle(request, response, subpath, requestContext) {
        await (await loaded()).handle(request, response, subpath, requestContext);
      },
      // A host serving gRPC must register the service's methods before it binds its port:
      // it loads the service at its start (only such hosts pay for it).
      async grpc(grpcContext) {
        return (await (await loaded()).grpc?.(grpcContext)) ?? [];
      },
      async close() {
        if (service) await (await service).close?.();
      },
    };
  };
}

/**
 * The services the host can run, by mount name; an enabled service without a factory
 * answers 404 "Service not deployed".
 */
export const DATA_PLANE_SERVICE_FACTORIES: Readonly<Record<string, DataPlaneServiceFactory>> = {
  library: lazyFactory('library', async () =>
    (await import('@citadel/library')).createLibraryServiceFactory(),
  ),
};
