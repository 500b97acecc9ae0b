import type { ReadableDocuments, SearchFilters } from '../store/library-store.ts';

/**
 * Where a tenant's chunk vectors live: pgvector in the tenant's database, an exact scan in the
 * service (no pgvector), or the tenant's own Milvus database.
 */
export type VectorIndexEngine = 'pgvector' | 'exact' | 'milvus';

/**
 * One chunk's embedding with what search filters on. Licence, source and tags are the document's
 * as of this version (a later version's metadata does not rewrite an earlier version's).
 */
export interface ChunkVector {
  chunkId: string;
  documentId: string;
  version: number;
  embedding: Float32Array;
  license: string;
  source: string;
  tags: readonly string[];
  /** The document's classification (`public`, `internal`…): who may read it, with `ownerId`. */
  classification: string;
  /** The document's owner, who may read their own documents of more classifications. */
  ownerId: string | undefined;
  /** When this version was ingested; `ingestedAfter`/`ingestedBefore` filter on it. */
  ingestedAt: Date;
  /** Whether this is its document's current version: the one a search sees by default. */
  current: boolean;
}

/** A version a search may see instead of only each document's current one. */
export interface VisibleVersion {
  documentId: string;
  version: number;
}

export interface VectorSearchOptions {
  /** How many nearest chunks to answer (at least 1). */
  limit: number;
  filters: SearchFilters;
  /**
   * Which documents the caller may read (Cedar's answer, `document-access.ts`): applied inside
   * the search, before the limit, so the search never ranks a chunk the caller may not read.
   */
  readable: ReadableDocuments;
  /**
   * Given: only these versions are searched, current or not (an empty list finds nothing).
   * Absent: every document's current version.
   */
  visibleVersions?: readonly VisibleVersion[];
}

/** Who may read a document's vectors: its classification and its owner. */
export interface DocumentAccess {
  classification: string;
  ownerId: string | undefined;
}

/** A nearest chunk: its id and its cosine similarity to the query (higher is nearer). */
export interface ScoredChunk {
  chunkId: string;
  score: number;
}

/**
 * The chunk vectors of one tenant's library, whatever engine holds them. Every implementation
 * is bound to one tenant when it is built; nothing here can reach another tenant's vectors.
 */
export interface VectorIndex {
  readonly engine: VectorIndexEngine;
  /** Writes the records; a record whose chunk id is already stored replaces it. */
  upsert(records: readonly ChunkVector[]): Promise<void>;
  /** Removes a document's vectors: all of them, or only those of `versions`. */
  deleteDocument(documentId: string, versions?: readonly number[]): Promise<void>;
  /**
   * Makes `version` the document's current version and every other version not current;
   * `undefined` leaves the document with no current version (it disappears from default searches).
   */
  setCurrentVersion(documentId: string, version: number | undefined): Promise<void>;
  /** Rewrites the classification and owner of all the document's vectors (a reclassification). */
  setDocumentAccess(documentId: string, access: DocumentAccess): Promise<void>;
  /** The nearest chunks by cosine similarity, best first, at most `options.limit` of them. */
  search(embedding: Float32Array, options: VectorSearchOptions): Promise<ScoredChunk[]>;
}
