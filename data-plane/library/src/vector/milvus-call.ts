import type { ResStatus } from '@zilliz/milvus2-sdk-node';
import { MilvusVectorIndexError } from './milvus-vector-index-error.ts';

/** A Milvus reply: a bare status, or a response carrying one. */
type MilvusReply = ResStatus | { status: ResStatus };

/** The reply's status; undefined when a reply has none (it cannot be read as a success). */
const statusOf = (reply: MilvusReply | undefined): ResStatus | undefined =>
  reply !== undefined && 'status' in reply ? reply.status : reply;

/** The SDK resolves failed calls too: success is `error_code` Success (or 0) and `code` 0. */
function succeeded(status: ResStatus | undefined): boolean {
  if (status === undefined) return false;
  const errorCode = status.error_code;
  return (errorCode === 'Success' || errorCode === 0) && (status.code ?? 0) === 0;
}

function milvusCodeOf(status: ResStatus): string {
  const code = status.code ?? 0;
  return code === 0 ? String(status.error_code) : `${String(status.error_code)}/${String(code)}`;
}

function rejected(operation: string, status: ResStatus | undefined): MilvusVectorIndexError {
  const reason = status === undefined ? 'no status in the reply' : status.reason;
  return new MilvusVectorIndexError({
    code: 'milvus-rejected',
    operation,
    ...(status === undefined ? {} : { milvusCode: milvusCodeOf(status) }),
    message: `Milvus refused ${operation}: ${reason === '' ? 'no reason given' : reason}`,
  });
}

const isStatus = (value: unknown): value is ResStatus =>
  typeof value === 'object' && value !== null && 'error_code' in value;

/** A gRPC failure (`@grpc/grpc-js` ServiceError): a numeric status code and details. */
const isGrpcError = (value: unknown): value is Error & { code: number; details: string } =>
  value instanceof Error && typeof (value as { code?: unknown }).code === 'number';

/** What the SDK threw, as the index's error. */
function translateThrown(operation: string, thrown: unknown): MilvusVectorIndexError {
  if (thrown instanceof MilvusVectorIndexError) return thrown;
  // Some SDK calls throw the failed status itself rather than resolving with it.
  if (isStatus(thrown)) return rejected(operation, thrown);
  if (isGrpcError(thrown)) {
    return new MilvusVectorIndexError({
      code: 'milvus-unavailable',
      operation,
      message: `Milvus did not answer ${operation}: ${thrown.details || thrown.message}`,
      cause: thrown,
    });
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new MilvusVectorIndexError({
    code: 'invalid-argument',
    operation,
    message: `The Milvus client refused ${operation}: ${message}`,
    cause: thrown,
  });
}

/** Milvus's answer for a collection that does not exist (code 100, legacy CollectionNotExists). */
export function isCollectionNotFound(status: ResStatus): boolean {
  return status.code === 100 || status.error_code === 'CollectionNotExists';
}

/**
 * Runs one SDK call and answers its reply once Milvus said Success, or a status `accept` allows;
 * every other failure, answered or thrown, becomes a `MilvusVectorIndexError` naming `operation`.
 */
export async function callMilvus<Reply extends MilvusReply>(
  operation: string,
  send: () => Promise<Reply>,
  accept: (status: ResStatus) => boolean = () => false,
): Promise<Reply> {
  let reply: Reply;
  try {
    reply = await send();
  } catch (thrown) {
    throw translateThrown(operation, thrown);
  }
  const status = statusOf(reply);
  if (succeeded(status) || (status !== undefined && accept(status))) return reply;
  throw rejected(operation, status);
}
