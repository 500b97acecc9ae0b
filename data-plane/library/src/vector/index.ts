export type {
  ChunkVector,
  DocumentAccess,
  ScoredChunk,
  VectorIndex,
  VectorIndexEngine,
  VectorSearchOptions,
  VisibleVersion,
} from './vector-index.ts';
export {
  createMilvusVectorIndex,
  type MilvusVectorIndex,
  type MilvusVectorIndexClient,
  type MilvusVectorIndexOptions,
} from './milvus-vector-index.ts';
export {
  MilvusVectorIndexError,
  type MilvusVectorIndexErrorCode,
} from './milvus-vector-index-error.ts';
export { LIBRARY_CHUNKS_COLLECTION } from './milvus-chunk-collection.ts';
export { milvusStringLiteral } from './milvus-filter-expression.ts';
