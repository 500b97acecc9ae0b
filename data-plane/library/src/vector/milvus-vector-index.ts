import type {
  ConsistencyLevelEnum,
  MilvusClient,
  SearchResultData,
} from '@zilliz/milvus2-sdk-node';
import { callMilvus } from './milvus-call.ts';
import {
  CHUNK_FIELD,
  CHUNK_FIELD_NAMES,
  CHUNK_VECTOR_INDEX,
  fromMilvusRow,
  LIBRARY_CHUNKS_COLLECTION,
  MIN_SEARCH_EF,
  toMilvusRow,
} from './milvus-chunk-collection.ts';
import {
  currentVersionExpressions,
  documentAccessExpression,
  documentExpression,
  searchFilterExpression,
} from './milvus-filter-expression.ts';
import { ensureChunkCollection } from './milvus-collection-setup.ts';
import { MilvusVectorIndexError } from './milvus-vector-index-error.ts';
import type { ChunkVector, ScoredChunk, VectorIndex, VectorSearchOptions } from './vector-index.ts';

/** The calls the index makes: the SDK's `MilvusClient` has them all. */
export type MilvusVectorIndexClient = Pick<
  MilvusClient,
  | 'describeCollection'
  | 'createCollection'
  | 'createIndex'
  | 'loadCollectionAsync'
  | 'getLoadState'
  | 'upsert'
  | 'deleteEntities'
  | 'query'
  | 'search'
>;

export interface MilvusVectorIndexOptions {
  /**
   * A client of the platform's Milvus (`new MilvusClient({ address, token, database })`); the
   * index names `database` on every request all the same.
   */
  client: MilvusVectorIndexClient;
  /** The tenant's own Milvus database, as the operator created it (`citadel_<instance>_<slug>`). */
  database: string;
  /** Dimensions of the embeddings: the tenant's `vectorStore.dimensions`, the embedder's. */
  dimensions: number;
  /** Default `library_chunks`. */
  collection?: string;
  /** Rows per upsert request (default 500). */
  batchSize?: number;
  /** Deadline of each call in milliseconds (default 15 s); Milvus calls wait forever without one. */
  timeoutMs?: number;
  /** How long `ensureCollection` waits for the collection to load (default 120 s). */
  loadTimeoutMs?: number;
}

/** The Milvus index, plus the step that makes its collection ready. */
export interface MilvusVectorIndex extends VectorIndex {
  readonly engine: 'milvus';
  /**
   * Creates the collection and its HNSW index when missing and loads it; every step is
   * idempotent, so a start interrupted half-way resumes. The other methods run it first (once).
   */
  ensureCollection(): Promise<void>;
}

/**
 * Strong consistency, by the proto enum's name. Every read after an ingest must see it (the
 * library answers `indexed` once the vectors are written, and any replica may serve the next
 * search); Session would need the client to track write timestamps, which this SDK does not.
 * The name, not `ConsistencyLevelEnum.Strong`: that is 0, which the SDK's search takes for
 * "unset" and replaces with the collection's level.
 */
const STRONG = 'Strong' as unknown as ConsistencyLevelEnum;

/** Milvus's largest `limit` (topk) for a search and a query. */
const MAX_LIMIT = 16_384;
/** Rows read and rewritten at a time when the current version or a document's access changes. */
const REWRITE_PAGE = 1_000;
/** A rewrite gives up after this many pages (a document far larger than any ingest). */
const MAX_REWRITE_PAGES = 1_000;

function invalid(operation: string, message: string): MilvusVectorIndexError {
  return new MilvusVectorIndexError({ code: 'invalid-argument', operation, message });
}

function checkOptions(options: MilvusVectorIndexOptions): void {
  const { dimensions, batchSize } = options;
  if (!Number.isSafeInteger(dimensions) || dimensions < 1 || dimensions > 32_768) {
    throw invalid('configure', `dimensions must be an integer from 1 to 32768, not ${dimensions}.`);
  }
  if (batchSize !== undefined && (!Number.isSafeInteger(batchSize) || batchSize < 1)) {
    throw invalid('configure', `batchSize must be a positive integer, not ${batchSize}.`);
  }
  if (options.database === '')
    throw invalid('configure', 'database must name the tenant database.');
}

/** A search hit; COSINE scores are the cosine similarity, as pgvector's `1 - distance`. */
function scoredChunkOf(hit: SearchResultData): ScoredChunk {
  const chunkId: unknown = hit[CHUNK_FIELD.chunkId];
  if (typeof chunkId !== 'string') {
    throw new MilvusVectorIndexError({
      code: 'milvus-rejected',
      operation: 'Search',
      message: 'Milvus answered a hit without its chunk id.',
    });
  }
  return { chunkId, score: hit.score };
}

/**
 * The library's chunk vectors in the tenant's own Milvus database (ADR 21): one collection,
 * a row per chunk with what search filters on, an HNSW cosine index, strongly consistent reads.
 */
export function createMilvusVectorIndex(options: MilvusVectorIndexOptions): MilvusVectorIndex {
  checkOptions(options);
  const { client, dimensions } = options;
  const timeout = options.timeoutMs ?? 15_000;
  const batchSize = options.batchSize ?? 500;
  const target = {
    collection_name: options.collection ?? LIBRARY_CHUNKS_COLLECTION,
    db_name: options.database,
    timeout,
  };

  let ensured: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    ensured ??= ensureChunkCollection({
      client,
      target,
      dimensions,
      loadTimeoutMs: options.loadTimeoutMs ?? 120_000,
    }).catch((error: unknown) => {
      ensured = undefined;
      throw error;
    });
    return ensured;
  };

  function checkEmbedding(operation: string, embedding: Float32Array, what: string): void {
    if (embedding.length !== dimensions) {
      throw invalid(
        operation,
        `${what} has ${embedding.length} dimensions; the index has ${dimensions}.`,
      );
    }
  }

  function checkRecord(record: ChunkVector): void {
    checkEmbedding('Upsert', record.embedding, `Chunk ${record.chunkId}`);
    if (!Number.isSafeInteger(record.version) || record.version < 0) {
      throw invalid(
        'Upsert',
        `Chunk ${record.chunkId} has version ${record.version}, not an integer.`,
      );
    }
    if (Number.isNaN(record.ingestedAt.getTime())) {
      throw invalid('Upsert', `Chunk ${record.chunkId} has an invalid ingestedAt.`);
    }
  }

  async function writeRows(records: readonly ChunkVector[]): Promise<void> {
    for (let start = 0; start < records.length; start += batchSize) {
      const rows = records.slice(start, start + batchSize).map(toMilvusRow);
      const reply = await callMilvus('Upsert', () => client.upsert({ ...target, data: rows }));
      if (reply.err_index.length > 0) {
        throw new MilvusVectorIndexError({
          code: 'milvus-rejected',
          operation: 'Upsert',
          message: `Milvus refused ${reply.err_index.length} of ${rows.length} rows.`,
        });
      }
    }
  }

  /**
   * Rewrites the rows matching `filter` with `change` (Milvus updates whole rows only), a page
   * at a time, until none match; `change` must make a row stop matching.
   */
  async function rewriteRows(filter: string, change: Partial<ChunkVector>): Promise<void> {
    for (let page = 0; page < MAX_REWRITE_PAGES; page += 1) {
      const { data } = await callMilvus('Query', () =>
        client.query({
          ...target,
          filter,
          output_fields: [...CHUNK_FIELD_NAMES],
          limit: REWRITE_PAGE,
          consistency_level: STRONG,
        }),
      );
      if (data.length === 0) return;
      await writeRows(data.map((row) => ({ ...fromMilvusRow(row), ...change })));
      // A strongly consistent query no longer matches the rows just rewritten.
      if (data.length < REWRITE_PAGE) return;
    }
    throw new MilvusVectorIndexError({
      code: 'milvus-rejected',
      operation: 'Query',
      message: `More than ${MAX_REWRITE_PAGES * REWRITE_PAGE} rows still match ${filter}.`,
    });
  }

  return {
    engine: 'milvus',
    ensureCollection: ready,

    async upsert(records) {
      if (records.length === 0) return;
      records.forEach(checkRecord);
      await ready();
      await writeRows(records);
    },

    async deleteDocument(documentId, versions) {
      if (versions?.length === 0) return;
      const filter = documentExpression(documentId, versions);
      await ready();
      await callMilvus('Delete', () => client.deleteEntities({ ...target, filter }));
    },

    async setCurrentVersion(documentId, version) {
      const { toMakeCurrent, toRetire } = currentVersionExpressions(documentId, version);
      await ready();
      // The new version first: a search meanwhile may see both versions, never neither.
      if (toMakeCurrent !== undefined) await rewriteRows(toMakeCurrent, { current: true });
      await rewriteRows(toRetire, { current: false });
    },

    async setDocumentAccess(documentId, access) {
      const filter = documentAccessExpression(documentId, access);
      await ready();
      await rewriteRows(filter, access);
    },

    async search(embedding, searchOptions: VectorSearchOptions): Promise<ScoredChunk[]> {
      const { limit } = searchOptions;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw invalid('Search', `limit must be an integer from 1 to ${MAX_LIMIT}, not ${limit}.`);
      }
      checkEmbedding('Search', embedding, 'The query embedding');
      const filter = searchFilterExpression(searchOptions);
      if (filter === undefined) return [];
      await ready();
      const reply = await callMilvus('Search', () =>
        client.search({
          ...target,
          data: Array.from(embedding),
          anns_field: CHUNK_FIELD.embedding,
          metric_type: CHUNK_VECTOR_INDEX.metric_type,
          limit,
          filter,
          params: { ef: Math.max(limit, MIN_SEARCH_EF) },
          // The SDK reads a hit's primary key from the returned fields, not from `ids`.
          output_fields: [CHUNK_FIELD.chunkId],
          consistency_level: STRONG,
        }),
      );
      return reply.results.map(scoredChunkOf);
    },
  };
}
