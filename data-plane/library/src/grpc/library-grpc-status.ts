import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import {
  HOST_PROBLEM_TYPE_BASE,
  type AuthenticationResult,
  type HostProblem,
} from '@citadel/data-plane-runtime';
import { LibraryRequestError } from '../http/library-requests.ts';
import { OutboxEventsPurgedError } from '../outbox/outbox-feed.ts';
import { DocumentNotFoundError } from '../store/library-store.ts';

/** Trailing metadata naming the problem, as the REST API's `type` (a URI). */
export const PROBLEM_TYPE_METADATA = 'citadel-problem-type';
/** Trailing metadata with the whole RFC 7807 problem as JSON, for a caller's mistakes only. */
export const PROBLEM_METADATA = 'citadel-problem-bin';

/** What a handler answers instead of a message: a status, its details, trailing metadata. */
export type GrpcFailure = Pick<ServiceError, 'code' | 'details' | 'metadata'> & Error;

function failure(code: Status, details: string, problem: HostProblem, tellProblem: boolean) {
  const metadata = new Metadata();
  const type = `${HOST_PROBLEM_TYPE_BASE}${problem.type}`;
  metadata.set(PROBLEM_TYPE_METADATA, type);
  if (tellProblem) {
    metadata.set(PROBLEM_METADATA, Buffer.from(JSON.stringify({ ...problem, type })));
  }
  const error: GrpcFailure = Object.assign(new Error(details), { code, details, metadata });
  return error;
}

/**
 * The status of a problem the library answered with, by its HTTP status: the caller's
 * mistakes keep their detail; anything else is INTERNAL and says nothing more.
 */
function codeOfHttpStatus(httpStatus: number): Status {
  switch (httpStatus) {
    case 400:
    case 413:
    case 415:
    case 422:
      return Status.INVALID_ARGUMENT;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.NOT_FOUND;
    case 409:
      return Status.FAILED_PRECONDITION;
    case 429:
      return Status.RESOURCE_EXHAUSTED;
    default:
      return Status.INTERNAL;
  }
}

const INTERNAL_PROBLEM: HostProblem = {
  type: 'internal',
  title: 'Internal Server Error',
  status: 500,
};

function failureOfProblem(problem: HostProblem): GrpcFailure {
  const code = codeOfHttpStatus(problem.status);
  if (code === Status.INTERNAL) return failure(code, 'Internal error.', INTERNAL_PROBLEM, false);
  return failure(code, problem.detail ?? problem.title, problem, true);
}

/**
 * The one translation of the library's errors to gRPC statuses. Undefined for an error the
 * library does not know: the caller answers INTERNAL (`internalFailure`) and logs it.
 */
export function grpcFailureOf(error: unknown): GrpcFailure | undefined {
  if (error instanceof LibraryRequestError) return failureOfProblem(error.problem);
  if (error instanceof DocumentNotFoundError) {
    return failureOfProblem({
      type: 'not-found',
      title: 'Not Found',
      status: 404,
      detail: error.message,
    });
  }
  if (error instanceof OutboxEventsPurgedError) {
    return failure(
      Status.OUT_OF_RANGE,
      error.message,
      {
        type: 'events-purged',
        title: 'Events purged',
        status: 410,
        detail: error.message,
        purgedThrough: error.purgedThrough.toString(),
      },
      true,
    );
  }
  return undefined;
}

export function internalFailure(): GrpcFailure {
  return failure(Status.INTERNAL, 'Internal error.', INTERNAL_PROBLEM, false);
}

/** UNAUTHENTICATED for a missing or refused token; UNAVAILABLE when the platform's keys are out of reach. */
export function authenticationFailureOf(
  result: Extract<AuthenticationResult, { ok: false }>,
): GrpcFailure {
  if (result.reason === 'keys-unavailable') {
    return failure(
      Status.UNAVAILABLE,
      result.detail,
      { type: 'token-keys-unavailable', title: 'Token keys unavailable', status: 503 },
      true,
    );
  }
  return failure(
    Status.UNAUTHENTICATED,
    result.detail,
    { type: 'unauthorized', title: 'Unauthorized', status: 401, reason: result.reason },
    true,
  );
}

/** How a stream ends when the service shuts down: the consumer resumes elsewhere. */
export function shuttingDownFailure(): GrpcFailure {
  return failure(
    Status.UNAVAILABLE,
    'The library is shutting down; resume after the last event id received.',
    { type: 'service-unavailable', title: 'Service Unavailable', status: 503 },
    false,
  );
}
