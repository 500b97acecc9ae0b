/**
 * Why a Milvus vector index call failed:
 * - `milvus-rejected`: Milvus answered with a non-success status (`milvusCode`, `reason`);
 * - `milvus-unavailable`: no answer, or not in time (connection, deadline, a collection that
 *   does not load);
 * - `schema-mismatch`: the collection exists with another shape (e.g. other dimensions);
 * - `invalid-argument`: the caller's input cannot be sent (wrong embedding length, bad limit…).
 */
export type MilvusVectorIndexErrorCode =
  'milvus-rejected' | 'milvus-unavailable' | 'schema-mismatch' | 'invalid-argument';

export interface MilvusVectorIndexErrorDetails {
  code: MilvusVectorIndexErrorCode;
  /** The Milvus RPC (`Search`, `Upsert`…) or adapter step that failed. */
  operation: string;
  message: string;
  /** Milvus's status code (`error_code` name or numeric `code`), when Milvus answered. */
  milvusCode?: string;
  cause?: unknown;
}

/** A failure of the library's Milvus vector index; `code` says which kind. */
export class MilvusVectorIndexError extends Error {
  readonly code: MilvusVectorIndexErrorCode;
  readonly operation: string;
  readonly milvusCode: string | undefined;

  constructor(details: MilvusVectorIndexErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MilvusVectorIndexError';
    this.code = details.code;
    this.operation = details.operation;
    this.milvusCode = details.milvusCode;
  }
}
