import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { exactNearest } from '../retrieval/fusion.ts';
import type { MinhashBand } from '../dedupe/index.ts';
import type { VectorIndex } from '../vector/index.ts';
import { currentEmbeddingModel } from './embedding-model.ts';
import { inTransaction } from './in-transaction.ts';
import { vectorLiteral, type VectorEngine } from './library-schema.ts';

/** A chunk ready to store: its text, exact span in the version's text, and embedding. */
export interface ChunkToStore {
  ordinal: number;
  text: string;
  start: number;
  end: number;
  headingPath: readonly string[];
  embedding: Float32Array;
}

/** What one ingestion writes: the document's metadata and one version with its chunks. */
export interface VersionToStore {
  /** The document: a new version of it when it exists, else a new document with this id. */
  documentId: string;
  /** The caller meant a new document: an existing one with this id is an error. */
  create: boolean;
  title: string;
  source: string;
  author: string | undefined;
  license: string;
  mediaType: string;
  tags: readonly string[];
  /** Who may read it, as the Cedar `Document` entity's `classification` and `owner`. */
  classification: string;
  ownerId: string | undefined;
  /** The redacted text: what chunks and citations point into. */
  text: string;
  contentDigest: string;
  minhash: Buffer | undefined;
  /** The signature's LSH buckets (see `minhashBands`). */
  minhashBands: readonly MinhashBand[];
  redactionReport: unknown;
  trainingAllowed: boolean;
  ingestedBy: string;
  chunks: readonly ChunkToStore[];
  /**
   * The model the chunks were embedded with (`embeddingModelKey`): if the tenant's model
   * changed meanwhile, the chunks are stored without embeddings, for the re-embedding.
   */
  embeddingModel: string;
  /** The original upload, encrypted with the tenant's data key (retention policy permitting). */
  original?: EncryptedOriginal;
  /** The ingestion job this write finishes, marked succeeded in the same transaction. */
  job?: { id: string; result: (stored: StoredVersion) => unknown };
}

export interface EncryptedOriginal {
  mediaType: string;
  sizeBytes: number;
  keyVersion: number;
  ciphertext: Buffer;
  /** Purged after this instant; undefined: kept until the version is deleted. */
  expiresAt: Date | undefined;
}

export interface StoredVersion {
  documentId: string;
  version: number;
  /** True when the document's current version already had this content: nothing was written. */
  unchanged: boolean;
}

/** A document as the API shows it. */
export interface DocumentRecord {
  id: string;
  title: string;
  source: string;
  author: string | null;
  license: string;
  mediaType: string;
  tags: string[];
  classification: string;
  ownerId: string | null;
  latestVersion: number;
  /** The version searches see; null when the document is not in the current knowledge base. */
  currentVersion: number | null;
  createdBy: string;
  createdAt: string;
  versions: Array<{
    version: number;
    contentDigest: string;
    ingestedBy: string;
    ingestedAt: string;
    chunks: number;
    trainingAllowed: boolean;
    redactions: unknown;
    originalKept: boolean;
  }>;
}

/** Filters every search applies (all optional): licence, source, tags (all of), ingest date. */
export interface SearchFilters {
  license?: string;
  source?: string;
  tags?: readonly string[];
  ingestedAfter?: Date;
  ingestedBefore?: Date;
}

/**
 * Which documents the caller may retrieve, as decided by Cedar per classification (see
 * `document-access.ts`): every document of `classifications`, and the caller's own documents
 * of `ownClassifications`.
 */
export interface ReadableDocuments {
  classifications: readonly string[];
  ownerId: string | undefined;
  ownClassifications: readonly string[];
}

/** What one ranking reads: the filters, who reads, and which versions (current, or a snapshot's). */
export interface RankingScope {
  filters: SearchFilters;
  readable: ReadableDocuments;
  /** A snapshot's name: its versions instead of the current ones. */
  snapshot?: string | undefined;
}

/** One candidate from one ranking (full-text or vector), in rank order. */
export interface RankedChunk {
  chunkId: string;
  documentId: string;
  version: number;
  title: string;
  text: string;
  start: number;
  end: number;
  headingPath: string[];
  score: number;
}

export interface LibraryStore {
  readonly engine: VectorEngine;
  /**
   * Writes a version and its chunks, the document row, the encrypted original, the outbox
   * events and the job's completion in one transaction. The same content as the document's
   * current version writes nothing and answers that version (`unchanged`).
   */
  storeVersion(input: VersionToStore): Promise<StoredVersion>;
  getDocument(id: string): Promise<DocumentRecord | undefined>;
  /** The document's current version: its number, digest and chunk count. */
  currentVersion(
    documentId: string,
  ): Promise<{ version: number; contentDigest: string; chunks: number } | undefined>;
  /** Current versions whose content digest is `digest` (exact duplicates). */
  findByDigest(digest: string): Promise<Array<{ documentId: string; version: number }>>;
  /**
   * MinHash signatures of current versions sharing an LSH bucket with `bands`: the
   * near-duplicate candidates, to be compared in full.
   */
  nearDuplicateCandidates(
    bands: readonly MinhashBand[],
  ): Promise<Array<{ documentId: string; minhash: Buffer }>>;
  fullTextRanking(query: string, scope: RankingScope, limit: number): Promise<RankedChunk[]>;
  vectorRanking(
    embedding: Float32Array,
    scope: RankingScope,
    limit: number,
  ): Promise<RankedChunk[]>;
  /** The exact text of `[start, end)` in a stored version, or undefined. */
  span(
    documentId: string,
    version: number,
    start: number,
    end: number,
  ): Promise<string | undefined>;
  /** Deletes a document with every version, chunk, original and snapshot membership. */
  deleteDocument(documentId: string, deletedBy: string): Promise<boolean>;
  /**
   * Deletes one version; the document's current version moves to the newest remaining one
   * (a document without versions is deleted). False when there was no such version.
   */
  deleteVersion(documentId: string, version: number, deletedBy: string): Promise<boolean>;
  /** The encrypted original of a version, unless none was kept or it expired. */
  original(documentId: string, version: number): Promise<EncryptedOriginal | undefined>;
  /** Deletes originals whose retention ended; answers how many. */
  purgeExpiredOriginals(): Promise<number>;
}

interface ChunkRow {
  chunk_id: string;
  document_id: string;
  version: number;
  title: string;
  text: string;
  start_offset: number;
  end_offset: number;
  heading_path: string[];
  score: number;
}

const toRanked = (row: ChunkRow): RankedChunk => ({
  chunkId: row.chunk_id,
  documentId: row.document_id,
  version: row.version,
  title: row.title,
  text: row.text,
  start: row.start_offset,
  end: row.end_offset,
  headingPath: row.heading_path,
  // ts_rank_cd and the cosine come back as numbers (float4/float8).
  score: row.score,
});

/**
 * `WHERE` terms for a ranking's scope, numbered from `$first`: the visible versions (current,
 * or a snapshot's), what the caller may read, and the filters.
 */
function scopeClause(scope: RankingScope, first: number): { sql: string; values: unknown[] } {
  const terms: string[] = [];
  const values: unknown[] = [];
  const parameter = (value: unknown) => {
    values.push(value);
    return `$${first + values.length - 1}`;
  };
  if (scope.snapshot === undefined) {
    terms.push('c.is_current');
  } else {
    terms.push(
      `(c.document_id, c.version) IN (SELECT m.document_id, m.version FROM library.snapshot_members m WHERE m.snapshot = ${parameter(scope.snapshot)})`,
    );
  }
  const { readable, filters } = scope;
  const everyone = `d.classification = ANY(${parameter(readable.classifications)}::text[])`;
  terms.push(
    readable.ownerId !== undefined && readable.ownClassifications.length > 0
      ? `(${everyone} OR (d.owner_id = ${parameter(readable.ownerId)} AND d.classification = ANY(${parameter(readable.ownClassifications)}::text[])))`
      : everyone,
  );
  if (filters.license !== undefined) terms.push(`d.license = ${parameter(filters.license)}`);
  if (filters.source !== undefined) terms.push(`d.source = ${parameter(filters.source)}`);
  if (filters.tags !== undefined && filters.tags.length > 0) {
    terms.push(`d.tags @> ${parameter(filters.tags)}::text[]`);
  }
  const dated = filters.ingestedAfter !== undefined || filters.ingestedBefore !== undefined;
  if (filters.ingestedAfter) terms.push(`v.ingested_at >= ${parameter(filters.ingestedAfter)}`);
  if (filters.ingestedBefore) terms.push(`v.ingested_at < ${parameter(filters.ingestedBefore)}`);
  const joins = dated
    ? 'JOIN library.document_versions v ON v.document_id = c.document_id AND v.version = c.version'
    : '';
  return { sql: `${joins} WHERE ${terms.join(' AND ')}`, values };
}

const CHUNK_COLUMNS = `c.id AS chunk_id, c.document_id, c.version, d.title, c.text,
  c.start_offset, c.end_offset, c.heading_path`;
const CHUNK_JOINS = `FROM library.chunks c JOIN library.documents d ON d.id = c.document_id`;

/** title, source, author, license, media_type, tags: the document row's metadata columns. */
const documentColumns = (input: VersionToStore) => [
  input.title,
  input.source,
  input.author ?? null,
  input.license,
  input.mediaType,
  input.tags,
];

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Chunks are written this many per statement (one round trip each). */
const CHUNK_BATCH = 500;

/** The library's persistence in the tenant's own database (see `ensureLibrarySchema`). */
export function createLibraryStore(
  pool: Pool,
  engine: VectorEngine,
  vectorIndex?: VectorIndex,
): LibraryStore {
  const vectorType = engine === 'pgvector' ? 'vector' : 'real[]';
  const externalIndex = vectorIndex !== undefined;
  let iterativeScans: Promise<boolean> | undefined;
  /** pgvector 0.8 added iterative index scans (`hnsw.iterative_scan`). */
  const supportsIterativeScans = () =>
    (iterativeScans ??= pool
      .query<{ version: string }>(
        "SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'",
      )
      .then(({ rows }) => {
        const [major = 0, minor = 0] = (rows[0]?.version ?? '0.0').split('.').map(Number);
        return major > 0 || minor >= 8;
      }));

  /** The nearest chunks from the external index, read back through the same scope. */
  async function externalRanking(
    index: VectorIndex,
    embedding: Float32Array,
    scope: RankingScope,
    limit: number,
  ): Promise<RankedChunk[]> {
    const visibleVersions =
      scope.snapshot === undefined
        ? undefined
        : (
            await pool.query<{ document_id: string; version: number }>(
              'SELECT document_id, version FROM library.snapshot_members WHERE snapshot = $1',
              [scope.snapshot],
            )
          ).rows.map((row) => ({ documentId: row.document_id, version: row.version }));
    const nearest = await index.search(embedding, {
      limit,
      filters: scope.filters,
      readable: scope.readable,
      ...(visibleVersions ? { visibleVersions } : {}),
    });
    const ids = nearest.map((hit) => hit.chunkId).filter((id) => UUID_PATTERN.test(id));
    if (ids.length === 0) return [];
    // The database decides again: a chunk the index still has but the scope excludes (a
    // deletion not yet applied there) is not answered.
    const where = scopeClause(scope, 2);
    const { rows } = await pool.query<ChunkRow>(
      `SELECT ${CHUNK_COLUMNS}, 0 AS score ${CHUNK_JOINS} ${where.sql} AND c.id = ANY($1::uuid[])`,
      [ids, ...where.values],
    );
    const byId = new Map(rows.map((row) => [row.chunk_id, row]));
    return nearest.flatMap(({ chunkId, score }) => {
      const row = byId.get(chunkId);
      return row ? [{ ...toRanked(row), score }] : [];
    });
  }

  /** Points the document's chunks' `is_current` at its `current_version`. */
  async function markCurrentChunks(client: PoolClient, documentIds: readonly string[]) {
    await client.query(
      `UPDATE library.chunks c SET is_current = COALESCE(c.version = d.current_version, false)
         FROM library.documents d
        WHERE d.id = c.document_id AND c.document_id = ANY($1::uuid[])
          AND c.is_current IS DISTINCT FROM COALESCE(c.version = d.current_version, false)`,
      [documentIds],
    );
  }

  /** Writes a version's chunks; without `withEmbeddings` their embeddings wait (NULL). */
  async function insertChunks(
    client: PoolClient,
    target: { documentId: string; version: number; withEmbeddings: boolean },
    chunks: readonly ChunkToStore[],
  ) {
    const { documentId, version, withEmbeddings } = target;
    for (let first = 0; first < chunks.length; first += CHUNK_BATCH) {
      const batch = chunks.slice(first, first + CHUNK_BATCH);
      await client.query(
        `INSERT INTO library.chunks
           (id, document_id, version, ordinal, text, start_offset, end_offset, heading_path,
            embedding)
         SELECT id, $1, $2, ordinal, text, start_offset, end_offset,
                -- text[][] cannot be ragged: heading paths travel as JSON arrays.
                ARRAY(SELECT jsonb_array_elements_text(heading_path)), embedding::${vectorType}
           FROM unnest($3::uuid[], $4::int[], $5::text[], $6::int[], $7::int[], $8::jsonb[],
                       $9::text[])
             AS t(id, ordinal, text, start_offset, end_offset, heading_path, embedding)`,
        [
          documentId,
          version,
          batch.map(() => randomUUID()),
          batch.map((chunk) => chunk.ordinal),
          batch.map((chunk) => chunk.text),
          batch.map((chunk) => chunk.start),
          batch.map((chunk) => chunk.end),
          batch.map((chunk) => JSON.stringify(chunk.headingPath)),
          batch.map((chunk) => (withEmbeddings ? vectorLiteral(chunk.embedding, engine) : null)),
        ],
      );
    }
  }

  return {
    engine,
    async storeVersion(input) {
      return inTransaction(pool, async (client) => {
        const documentId = input.documentId;
        // The document row is locked: concurrent re-ingestions get consecutive versions.
        const { rows } = await client.query<{
          latest_version: number;
          current_version: number | null;
          digest: string | null;
        }>(
          `SELECT d.latest_version, d.current_version, v.content_digest AS digest
             FROM library.documents d
             LEFT JOIN library.document_versions v
               ON v.document_id = d.id AND v.version = d.current_version
            WHERE d.id = $1 FOR UPDATE OF d`,
          [documentId],
        );
        const existing = rows[0];
        let version = 1;
        let stored: StoredVersion;
        if (existing === undefined && !input.create) throw new DocumentNotFoundError(documentId);
        if (existing?.current_version != null && existing.digest === input.contentDigest) {
          stored = { documentId, version: existing.current_version, unchanged: true };
        } else {
          if (existing !== undefined) {
            version = existing.latest_version + 1;
            await client.query(
              `UPDATE library.documents SET title = $2, source = $3, author = $4, license = $5,
                 media_type = $6, tags = $7, classification = $8, latest_version = $9,
                 current_version = $9, generation = generation + 1, updated_at = now()
               WHERE id = $1`,
              [documentId, ...documentColumns(input), input.classification, version],
            );
            await client.query(
              'UPDATE library.chunks SET is_current = false WHERE document_id = $1 AND is_current',
              [documentId],
            );
          } else {
            await client.query(
              `INSERT INTO library.documents
                 (id, title, source, author, license, media_type, tags, classification, owner_id,
                  latest_version, current_version, created_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, 1, $10)`,
              [
                documentId,
                ...documentColumns(input),
                input.classification,
                input.ownerId ?? null,
                input.ingestedBy,
              ],
            );
          }
          await client.query(
            `INSERT INTO library.document_versions
               (document_id, version, content_digest, minhash, text, redaction_report,
                training_allowed, ingested_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [
              documentId,
              version,
              input.contentDigest,
              input.minhash ?? null,
              input.text,
              JSON.stringify(input.redactionReport),
              input.trainingAllowed,
              input.ingestedBy,
            ],
          );
          const model = await currentEmbeddingModel(client);
          const current = model === undefined || model === input.embeddingModel;
          await insertChunks(
            client,
            { documentId, version, withEmbeddings: current },
            input.chunks,
          );
          await client.query(
            `INSERT INTO library.minhash_bands (band, bucket, document_id, version)
             SELECT band, bucket, $1, $2 FROM unnest($3::smallint[], $4::bigint[]) AS t(band, bucket)
             ON CONFLICT DO NOTHING`,
            [
              documentId,
              version,
              input.minhashBands.map((band) => band.band),
              input.minhashBands.map((band) => band.bucket),
            ],
          );
          if (input.original) {
            const original = input.original;
            await client.query(
              `INSERT INTO library.originals
                 (document_id, version, media_type, size_bytes, key_version, ciphertext, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)`,
              [
                documentId,
                version,
                original.mediaType,
                original.sizeBytes,
                original.keyVersion,
                original.ciphertext,
                original.expiresAt ?? null,
              ],
            );
          }
          const event = { documentId, version, chunks: input.chunks.length };
          // With an external index, DocumentIndexed follows when the index has the vectors.
          await client.query(
            externalIndex
              ? `INSERT INTO library.outbox (event_type, payload) VALUES ('DocumentIngested', $1)`
              : `INSERT INTO library.outbox (event_type, payload)
                 VALUES ('DocumentIngested', $1), ('DocumentIndexed', $1)`,
            [JSON.stringify(event)],
          );
          stored = { documentId, version, unchanged: false };
        }
        if (input.job) {
          await client.query(
            `UPDATE library.ingestion_jobs SET state = 'succeeded', result = $2, input = NULL,
               problem = NULL, lease_until = NULL, updated_at = now() WHERE id = $1`,
            [input.job.id, JSON.stringify(input.job.result(stored))],
          );
        }
        return stored;
      });
    },

    async getDocument(id) {
      const { rows } = await pool.query<{
        id: string;
        title: string;
        source: string;
        author: string | null;
        license: string;
        media_type: string;
        tags: string[];
        classification: string;
        owner_id: string | null;
        latest_version: number;
        current_version: number | null;
        created_by: string;
        created_at: Date;
      }>('SELECT * FROM library.documents WHERE id = $1', [id]);
      const document = rows[0];
      if (!document) return undefined;
      const versions = await pool.query<{
        version: number;
        content_digest: string;
        ingested_by: string;
        ingested_at: Date;
        chunks: string;
        training_allowed: boolean;
        redaction_report: unknown;
        original_kept: boolean;
      }>(
        `SELECT v.version, v.content_digest, v.ingested_by, v.ingested_at, v.training_allowed,
                v.redaction_report,
                (SELECT count(*) FROM library.chunks c
                  WHERE c.document_id = v.document_id AND c.version = v.version) AS chunks,
                EXISTS (SELECT 1 FROM library.originals o
                         WHERE o.document_id = v.document_id AND o.version = v.version
                           AND (o.expires_at IS NULL OR o.expires_at > now())) AS original_kept
           FROM library.document_versions v WHERE v.document_id = $1 ORDER BY v.version`,
        [id],
      );
      return {
        id: document.id,
        title: document.title,
        source: document.source,
        author: document.author,
        license: document.license,
        mediaType: document.media_type,
        tags: document.tags,
        classification: document.classification,
        ownerId: document.owner_id,
        latestVersion: document.latest_version,
        currentVersion: document.current_version,
        createdBy: document.created_by,
        createdAt: document.created_at.toISOString(),
        versions: versions.rows.map((row) => ({
          version: row.version,
          contentDigest: row.content_digest,
          ingestedBy: row.ingested_by,
          ingestedAt: row.ingested_at.toISOString(),
          chunks: Number(row.chunks),
          trainingAllowed: row.training_allowed,
          redactions: row.redaction_report,
          originalKept: row.original_kept,
        })),
      };
    },

    async currentVersion(documentId) {
      const { rows } = await pool.query<{
        version: number;
        content_digest: string;
        chunks: string;
      }>(
        `SELECT v.version, v.content_digest,
                (SELECT count(*) FROM library.chunks c
                  WHERE c.document_id = v.document_id AND c.version = v.version) AS chunks
           FROM library.documents d
           JOIN library.document_versions v ON v.document_id = d.id AND v.version = d.current_version
          WHERE d.id = $1`,
        [documentId],
      );
      const row = rows[0];
      return row
        ? { version: row.version, contentDigest: row.content_digest, chunks: Number(row.chunks) }
        : undefined;
    },

    async findByDigest(digest) {
      const { rows } = await pool.query<{ document_id: string; version: number }>(
        `SELECT v.document_id, v.version FROM library.document_versions v
           JOIN library.documents d ON d.id = v.document_id AND d.current_version = v.version
          WHERE v.content_digest = $1`,
        [digest],
      );
      return rows.map((row) => ({ documentId: row.document_id, version: row.version }));
    },

    async nearDuplicateCandidates(bands) {
      const { rows } = await pool.query<{ document_id: string; minhash: Buffer }>(
        `SELECT v.document_id, v.minhash FROM library.document_versions v
           JOIN library.documents d ON d.id = v.document_id AND d.current_version = v.version
          WHERE v.minhash IS NOT NULL AND EXISTS (
            SELECT 1 FROM library.minhash_bands b
             WHERE b.document_id = v.document_id AND b.version = v.version
               AND (b.band, b.bucket) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[])))`,
        [bands.map((band) => band.band), bands.map((band) => band.bucket)],
      );
      return rows.map((row) => ({ documentId: row.document_id, minhash: row.minhash }));
    },

    async fullTextRanking(query, scope, limit) {
      const where = scopeClause(scope, 3);
      const { rows } = await pool.query<ChunkRow>(
        `SELECT ${CHUNK_COLUMNS}, ts_rank_cd(c.tsv, q) AS score
           ${CHUNK_JOINS} CROSS JOIN websearch_to_tsquery('english', $1) q
           ${where.sql} AND c.tsv @@ q
          ORDER BY score DESC, c.id
          LIMIT $2`,
        [query, limit, ...where.values],
      );
      return rows.map(toRanked);
    },

    async vectorRanking(embedding, scope, limit) {
      if (vectorIndex) return externalRanking(vectorIndex, embedding, scope, limit);
      if (engine === 'pgvector') {
        const where = scopeClause(scope, 3);
        const iterative = await supportsIterativeScans();
        return inTransaction(pool, async (client) => {
          // The HNSW index answers an ORDER BY on the distance alone (a second sort key would
          // make the planner sort every row instead). ef_search widens the candidate list;
          // iterative scans (pgvector ≥ 0.8) keep scanning until enough rows pass the filters.
          await client.query(`SET LOCAL hnsw.ef_search = ${String(Math.max(100, limit))}`);
          if (iterative) await client.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
          const { rows } = await client.query<ChunkRow & { distance: number }>(
            `SELECT * FROM (
               SELECT ${CHUNK_COLUMNS}, c.embedding <=> $1::vector AS distance
                 ${CHUNK_JOINS} ${where.sql} AND c.embedding IS NOT NULL
                ORDER BY c.embedding <=> $1::vector
                LIMIT $2) nearest
              ORDER BY distance, chunk_id`,
            [vectorLiteral(embedding, engine), limit, ...where.values],
          );
          return rows.map((row) => ({ ...toRanked(row), score: 1 - row.distance }));
        });
      }
      // No pgvector: exact search in the service over the visible, filtered chunks.
      const where = scopeClause(scope, 1);
      const { rows } = await pool.query<ChunkRow & { embedding: number[] }>(
        `SELECT ${CHUNK_COLUMNS}, 0 AS score, c.embedding ${CHUNK_JOINS} ${where.sql}
            AND c.embedding IS NOT NULL
          ORDER BY c.id`,
        where.values,
      );
      const byId = new Map(rows.map((row) => [row.chunk_id, row]));
      const vectors = rows.map((row) => ({
        id: row.chunk_id,
        vector: Float32Array.from(row.embedding),
      }));
      return exactNearest(embedding, vectors, limit).flatMap(({ id, score }) => {
        const row = byId.get(id);
        return row ? [{ ...toRanked(row), score }] : [];
      });
    },

    async span(documentId, version, start, end) {
      // Offsets are JavaScript string offsets (UTF-16), as the chunker made them.
      const { rows } = await pool.query<{ text: string }>(
        'SELECT text FROM library.document_versions WHERE document_id = $1 AND version = $2',
        [documentId, version],
      );
      const text = rows[0]?.text;
      if (text === undefined || start < 0 || end > text.length || start > end) return undefined;
      return text.slice(start, end);
    },

    async deleteDocument(documentId, deletedBy) {
      return inTransaction(pool, async (client) => {
        const { rowCount } = await client.query('DELETE FROM library.documents WHERE id = $1', [
          documentId,
        ]);
        if (rowCount === 0) return false;
        if (externalIndex) {
          await client.query('INSERT INTO library.vector_deletions (document_id) VALUES ($1)', [
            documentId,
          ]);
        }
        await client.query(
          `INSERT INTO library.outbox (event_type, payload) VALUES ('DocumentDeleted', $1)`,
          [JSON.stringify({ documentId, deletedBy })],
        );
        return true;
      });
    },

    async deleteVersion(documentId, version, deletedBy) {
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ current_version: number | null }>(
          'SELECT current_version FROM library.documents WHERE id = $1 FOR UPDATE',
          [documentId],
        );
        if (rows[0] === undefined) return false;
        const { rowCount } = await client.query(
          'DELETE FROM library.document_versions WHERE document_id = $1 AND version = $2',
          [documentId, version],
        );
        if (rowCount === 0) return false;
        const remaining = await client.query<{ newest: number | null }>(
          'SELECT max(version) AS newest FROM library.document_versions WHERE document_id = $1',
          [documentId],
        );
        const newest = remaining.rows[0]?.newest ?? null;
        if (newest === null) {
          await client.query('DELETE FROM library.documents WHERE id = $1', [documentId]);
        } else if (rows[0].current_version === version) {
          await client.query(
            `UPDATE library.documents SET current_version = $2, generation = generation + 1,
               updated_at = now() WHERE id = $1`,
            [documentId, newest],
          );
          await markCurrentChunks(client, [documentId]);
        }
        if (externalIndex) {
          await client.query(
            'INSERT INTO library.vector_deletions (document_id, versions) VALUES ($1, $2)',
            [documentId, newest === null ? null : [version]],
          );
        }
        await client.query(
          `INSERT INTO library.outbox (event_type, payload) VALUES ('DocumentVersionDeleted', $1)`,
          [JSON.stringify({ documentId, version, deletedBy })],
        );
        return true;
      });
    },

    async original(documentId, version) {
      const { rows } = await pool.query<{
        media_type: string;
        size_bytes: number;
        key_version: number;
        ciphertext: Buffer;
        expires_at: Date | null;
      }>(
        `SELECT media_type, size_bytes, key_version, ciphertext, expires_at FROM library.originals
          WHERE document_id = $1 AND version = $2 AND (expires_at IS NULL OR expires_at > now())`,
        [documentId, version],
      );
      const row = rows[0];
      return row
        ? {
            mediaType: row.media_type,
            sizeBytes: row.size_bytes,
            keyVersion: row.key_version,
            ciphertext: row.ciphertext,
            expiresAt: row.expires_at ?? undefined,
          }
        : undefined;
    },

    async purgeExpiredOriginals() {
      const { rowCount } = await pool.query(
        'DELETE FROM library.originals WHERE expires_at IS NOT NULL AND expires_at <= now()',
      );
      return rowCount ?? 0;
    },
  };
}

/** The request names a document that does not exist (in this tenant). */
export class DocumentNotFoundError extends Error {
  readonly documentId: string;
  constructor(documentId: string) {
    super(`document ${documentId} does not exist`);
    this.name = 'DocumentNotFoundError';
    this.documentId = documentId;
  }
}
