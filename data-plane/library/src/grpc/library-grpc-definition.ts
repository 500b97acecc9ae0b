import { resolve } from 'node:path';
import { loadSync, type Options, type ServiceDefinition } from '@grpc/proto-loader';

/** Where the library's .proto files live: pass it as an include directory to import them. */
export const LIBRARY_PROTO_ROOT = resolve(import.meta.dirname, '../../proto');

/** The library's API contract, `citadel.library.v1`. */
export const LIBRARY_PROTO_PATH = resolve(LIBRARY_PROTO_ROOT, 'citadel/library/v1/library.proto');

/** The fully qualified name of the `Library` service. */
export const LIBRARY_GRPC_SERVICE_NAME = 'citadel.library.v1.Library';

/**
 * How the server reads the contract, and how a client must too for the messages to look
 * alike: camelCase fields, 64-bit integers (event ids) as decimal strings, scalar defaults
 * filled in, and the name of the set member of each `oneof`.
 */
export const LIBRARY_PROTO_LOADER_OPTIONS: Readonly<Options> = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [LIBRARY_PROTO_ROOT],
};

let definition: ServiceDefinition | undefined;

/** The `Library` service as `@grpc/grpc-js` serves it, parsed from the .proto once per process. */
export function loadLibraryGrpcDefinition(): ServiceDefinition {
  definition ??= loadSync(LIBRARY_PROTO_PATH, LIBRARY_PROTO_LOADER_OPTIONS)[
    LIBRARY_GRPC_SERVICE_NAME
  ] as ServiceDefinition;
  return definition;
}
