export { createLibraryGrpcHook, type LibraryGrpcHookOptions } from './library-grpc-hook.ts';
export { createLibraryGrpcService, type LibraryGrpcService } from './library-grpc-service.ts';
export type { LibraryEventSource, RetrievalSource } from './library-grpc-handlers.ts';
