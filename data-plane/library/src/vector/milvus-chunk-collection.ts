import type { FieldType, RowData } from '@zilliz/milvus2-sdk-node';
import type { ChunkVector } from './vector-index.ts';

/**
 * The library's collection in the tenant's Milvus database. The operator creates only the
 * database (named like the tenant's PostgreSQL database); the library owns its collection.
 */
export const LIBRARY_CHUNKS_COLLECTION = 'library_chunks';

/** Field names of the chunk collection. */
export const CHUNK_FIELD = {
  chunkId: 'chunk_id',
  documentId: 'document_id',
  version: 'version',
  /** `${documentId}:${version}`: lets a search name the versions it may see in one `in` term. */
  documentVersion: 'document_version',
  license: 'license',
  source: 'source',
  tags: 'tags',
  classification: 'classification',
  /** The document's owner; empty when it has none. */
  ownerId: 'owner_id',
  /** Milliseconds since the epoch. */
  ingestedAt: 'ingested_at',
  current: 'current',
  embedding: 'embedding',
} as const;

/** Every field, for reading whole rows back (Milvus upserts whole rows). */
export const CHUNK_FIELD_NAMES: readonly string[] = Object.values(CHUNK_FIELD);

/**
 * Longest values in UTF-8 bytes, which Milvus counts. They cover the library's own limits
 * (licence 500 characters, source 2000, tags 100 characters and 50 of them) at 3 bytes a
 * UTF-16 unit, UTF-8's worst case.
 */
const MAX_BYTES = {
  id: 64,
  documentVersion: 80,
  license: 2_048,
  source: 8_192,
  tag: 512,
  classification: 256,
  ownerId: 256,
} as const;
const MAX_TAGS = 64;

/**
 * The vector index, as pgvector's in the tenant's PostgreSQL: HNSW with cosine distance and
 * pgvector's defaults (m 16, ef_construction 64), so both engines rank alike.
 */
export const CHUNK_VECTOR_INDEX = {
  field_name: CHUNK_FIELD.embedding,
  index_name: 'embedding_hnsw',
  index_type: 'HNSW',
  metric_type: 'COSINE',
  params: { M: 16, efConstruction: 64 },
} as const;

/** pgvector's default `hnsw.ef_search`; Milvus needs `ef` of at least the limit. */
export const MIN_SEARCH_EF = 40;

const varChar = (name: string, maxBytes: number): FieldType => ({
  name,
  data_type: 'VarChar',
  max_length: maxBytes,
});

/** The collection's fields: a varchar primary key, scalar filter fields and the embedding. */
export function chunkCollectionFields(dimensions: number): FieldType[] {
  return [
    { ...varChar(CHUNK_FIELD.chunkId, MAX_BYTES.id), is_primary_key: true, autoID: false },
    varChar(CHUNK_FIELD.documentId, MAX_BYTES.id),
    { name: CHUNK_FIELD.version, data_type: 'Int32' },
    varChar(CHUNK_FIELD.documentVersion, MAX_BYTES.documentVersion),
    varChar(CHUNK_FIELD.license, MAX_BYTES.license),
    varChar(CHUNK_FIELD.source, MAX_BYTES.source),
    {
      name: CHUNK_FIELD.tags,
      data_type: 'Array',
      element_type: 'VarChar',
      max_capacity: MAX_TAGS,
      max_length: MAX_BYTES.tag,
    },
    varChar(CHUNK_FIELD.classification, MAX_BYTES.classification),
    varChar(CHUNK_FIELD.ownerId, MAX_BYTES.ownerId),
    { name: CHUNK_FIELD.ingestedAt, data_type: 'Int64' },
    { name: CHUNK_FIELD.current, data_type: 'Bool' },
    { name: CHUNK_FIELD.embedding, data_type: 'FloatVector', dim: dimensions },
  ];
}

/** The `document_version` key of a version. */
export function documentVersionKey(documentId: string, version: number): string {
  return `${documentId}:${String(version)}`;
}

/** A string as Milvus can store it: lone surrogates (not UTF-8) become U+FFFD. */
const stored = (value: string) => value.toWellFormed();

/**
 * A record as a Milvus row. Non-finite embedding values become 0, as the PostgreSQL store
 * writes them (Milvus refuses NaN).
 */
export function toMilvusRow(record: ChunkVector): RowData {
  return {
    [CHUNK_FIELD.chunkId]: stored(record.chunkId),
    [CHUNK_FIELD.documentId]: stored(record.documentId),
    [CHUNK_FIELD.version]: record.version,
    [CHUNK_FIELD.documentVersion]: stored(documentVersionKey(record.documentId, record.version)),
    [CHUNK_FIELD.license]: stored(record.license),
    [CHUNK_FIELD.source]: stored(record.source),
    [CHUNK_FIELD.tags]: record.tags.map(stored),
    [CHUNK_FIELD.classification]: stored(record.classification),
    [CHUNK_FIELD.ownerId]: stored(record.ownerId ?? ''),
    [CHUNK_FIELD.ingestedAt]: record.ingestedAt.getTime(),
    [CHUNK_FIELD.current]: record.current,
    [CHUNK_FIELD.embedding]: Array.from(record.embedding, (value) =>
      Number.isFinite(value) ? value : 0,
    ),
  };
}

const text = (value: unknown): string => (typeof value === 'string' ? value : String(value));

/** A row read back from Milvus (int64 arrives as a string, arrays as arrays). */
export function fromMilvusRow(row: Record<string, unknown>): ChunkVector {
  const tags = row[CHUNK_FIELD.tags];
  const embedding = row[CHUNK_FIELD.embedding];
  return {
    chunkId: text(row[CHUNK_FIELD.chunkId]),
    documentId: text(row[CHUNK_FIELD.documentId]),
    version: Number(row[CHUNK_FIELD.version]),
    license: text(row[CHUNK_FIELD.license]),
    source: text(row[CHUNK_FIELD.source]),
    tags: Array.isArray(tags) ? tags.map(text) : [],
    classification: text(row[CHUNK_FIELD.classification]),
    ownerId: text(row[CHUNK_FIELD.ownerId]) || undefined,
    ingestedAt: new Date(Number(row[CHUNK_FIELD.ingestedAt])),
    current: row[CHUNK_FIELD.current] === true,
    embedding: Float32Array.from(Array.isArray(embedding) ? embedding.map(Number) : []),
  };
}
