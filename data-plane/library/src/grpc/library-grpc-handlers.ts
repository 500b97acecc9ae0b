import type {
  Metadata,
  ServerUnaryCall,
  ServerWritableStream,
  sendUnaryData,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type {
  HostLogger,
  RequestAuthenticator,
  RequestPrincipal,
} from '@citadel/data-plane-runtime';
import {
  afterEventIdOf,
  libraryEventOf,
  retrievalRequestOf,
  retrieveResponseOf,
  type LibraryEventMessage,
  type RetrieveRequestMessage,
  type RetrieveResponseMessage,
  type StreamEventsRequestMessage,
} from './library-grpc-messages.ts';
import {
  authenticationFailureOf,
  grpcFailureOf,
  internalFailure,
  shuttingDownFailure,
  type GrpcFailure,
} from './library-grpc-status.ts';
import type { Library } from '../library.ts';
import type { OutboxEvent } from '../outbox/outbox-event.ts';

/** The service name tokens for the library are issued for (`aud: citadel:library`). */
const SERVICE = 'library';

/**
 * What `Retrieve` needs of the library: a search as `caller` may see it, which throws
 * `LibraryRequestError` for a request it refuses.
 */
export type RetrievalSource = Pick<Library, 'retrieve'>;

/** What `StreamEvents` reads: the library's committed events (`LibraryOutbox.events`). */
export interface LibraryEventSource {
  events(afterId: bigint, signal: AbortSignal): AsyncIterable<OutboxEvent>;
}

export interface LibraryGrpcHandlersOptions {
  library: RetrievalSource;
  /** The host's token verification: the same platform-signed tokens as the REST API. */
  authenticator: RequestAuthenticator;
  events: LibraryEventSource;
  /** This host's tenant, named on every event. */
  tenantId: string;
  logger: HostLogger;
  /**
   * Decides whether `caller` may stream the library's events; throws (a
   * `LibraryRequestError` 403) to refuse. Default: every authenticated caller of the tenant.
   */
  authorizeEvents?: (caller: RequestPrincipal) => Promise<void>;
}

/** A refusal that already carries its gRPC status. */
class CallRefused extends Error {
  readonly failure: GrpcFailure;
  constructor(failure: GrpcFailure) {
    super(failure.details);
    this.failure = failure;
  }
}

/** The token of the call's `authorization: Bearer …` metadata; more than one is refused. */
function authorizationOf(metadata: Metadata): string | undefined {
  const values = metadata.get('authorization');
  const [value] = values;
  return values.length === 1 && typeof value === 'string' ? value : undefined;
}

/** Resolves once the stream can take more, or the call ends. */
function drained(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done);
  });
}

/**
 * The `citadel.library.v1.Library` service: `Retrieve` and `StreamEvents`. A thin transport:
 * every call authenticates its bearer token as the REST API does, decodes its message, asks
 * the library, and maps the library's errors to statuses in one place
 * (`library-grpc-status.ts`).
 */
export function createLibraryGrpcHandlers(
  options: LibraryGrpcHandlersOptions,
): UntypedServiceImplementation {
  const { library, authenticator, events, tenantId, logger } = options;

  const callerOf = async (metadata: Metadata): Promise<RequestPrincipal> => {
    const result = await authenticator.authenticate(authorizationOf(metadata), SERVICE);
    if (!result.ok) throw new CallRefused(authenticationFailureOf(result));
    return result.request.principal;
  };

  const failureOf = (error: unknown, method: string): GrpcFailure => {
    if (error instanceof CallRefused) return error.failure;
    const known = grpcFailureOf(error);
    if (known) return known;
    logger.error({ error, method }, 'library gRPC call failed');
    return internalFailure();
  };

  const retrieve = async (
    call: ServerUnaryCall<RetrieveRequestMessage, RetrieveResponseMessage>,
    callback: sendUnaryData<RetrieveResponseMessage>,
  ) => {
    try {
      const caller = await callerOf(call.metadata);
      const result = await library.retrieve(retrievalRequestOf(call.request), caller);
      callback(null, retrieveResponseOf(result));
    } catch (error) {
      callback(failureOf(error, 'Retrieve'));
    }
  };

  const send = async (
    call: ServerWritableStream<StreamEventsRequestMessage, LibraryEventMessage>,
    signal: AbortSignal,
  ) => {
    const afterId = afterEventIdOf(call.request);
    const types = new Set(call.request.types ?? []);
    for await (const event of events.events(afterId, signal)) {
      if (types.size > 0 && !types.has(event.type)) continue;
      if (!call.write(libraryEventOf(event, tenantId))) await drained(call, signal);
    }
  };

  const streamEvents = async (
    call: ServerWritableStream<StreamEventsRequestMessage, LibraryEventMessage>,
  ) => {
    const cancelled = new AbortController();
    const cancel = () => cancelled.abort();
    call.on('cancelled', cancel);
    try {
      const caller = await callerOf(call.metadata);
      await options.authorizeEvents?.(caller);
      await send(call, cancelled.signal);
      // The events only end when the service closes.
      if (!cancelled.signal.aborted) call.emit('error', shuttingDownFailure());
    } catch (error) {
      if (!cancelled.signal.aborted) call.emit('error', failureOf(error, 'StreamEvents'));
    } finally {
      call.off('cancelled', cancel);
      cancelled.abort();
    }
  };

  return {
    Retrieve: (
      call: ServerUnaryCall<RetrieveRequestMessage, RetrieveResponseMessage>,
      callback: sendUnaryData<RetrieveResponseMessage>,
    ) => {
      void retrieve(call, callback);
    },
    StreamEvents: (call: ServerWritableStream<StreamEventsRequestMessage, LibraryEventMessage>) => {
      void streamEvents(call);
    },
  };
}
