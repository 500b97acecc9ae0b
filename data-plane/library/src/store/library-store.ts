import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { exactNearest } from '../retrieval/fusion.ts';
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
  /** Given: a new version of that document; absent: a new document. */
  documentId?: string;
  title: string;
  source: string;
  author: string | undefined;
  license: string;
  mediaType: string;
  tags: readonly string[];
  /** The redacted text: what chunks and citations point into. */
  text: string;
  contentDigest: string;
  minhash: Buffer | undefined;
  redactionReport: unknown;
  trainingAllowed: boolean;
  ingestedBy: string;
  chunks: readonly ChunkToStore[];
}

export interface StoredVersion {
  documentId: string;
  version: number;
  /** True when the document's latest version already had this content: nothing was written. */
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
  latestVersion: number;
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
   * Writes a version and its chunks, the document row and the outbox events in one
   * transaction. A retry of the same content (same document, same digest as its latest
   * version) writes nothing and answers the stored version.
   */
  storeVersion(input: VersionToStore): Promise<StoredVersion>;
  getDocument(id: string): Promise<DocumentRecord | undefined>;
  /** The document's latest version: its number, digest and chunk count (undefined: no such document). */
  latestVersion(
    documentId: string,
  ): Promise<{ version: number; contentDigest: string; chunks: number } | undefined>;
  /** Documents of the latest versions whose content digest is `digest` (exact duplicates). */
  findByDigest(digest: string): Promise<Array<{ documentId: string; version: number }>>;
  /** MinHash signatures of every document's latest version (near-duplicate index). */
  latestSignatures(): Promise<Array<{ documentId: string; minhash: Buffer }>>;
  fullTextRanking(query: string, filters: SearchFilters, limit: number): Promise<RankedChunk[]>;
  vectorRanking(
    embedding: Float32Array,
    filters: SearchFilters,
    limit: number,
  ): Promise<RankedChunk[]>;
  /** The exact text of `[start, end)` in a stored version, or undefined. */
  span(
    documentId: string,
    version: number,
    start: number,
    end: number,
  ): Promise<string | undefined>;
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

/** `WHERE` terms for the filters, numbered from `$first`; only the latest versions. */
function filterClause(filters: SearchFilters, first: number): { sql: string; values: unknown[] } {
  const terms = ['c.version = d.latest_version'];
  const values: unknown[] = [];
  const add = (term: (n: number) => string, value: unknown) => {
    values.push(value);
    terms.push(term(first + values.length - 1));
  };
  if (filters.license !== undefined) add((n) => `d.license = $${n}`, filters.license);
  if (filters.source !== undefined) add((n) => `d.source = $${n}`, filters.source);
  if (filters.tags !== undefined && filters.tags.length > 0) {
    add((n) => `d.tags @> $${n}::text[]`, filters.tags);
  }
  if (filters.ingestedAfter) add((n) => `v.ingested_at >= $${n}`, filters.ingestedAfter);
  if (filters.ingestedBefore) add((n) => `v.ingested_at < $${n}`, filters.ingestedBefore);
  return { sql: terms.join(' AND '), values };
}

const CHUNK_COLUMNS = `c.id AS chunk_id, c.document_id, c.version, d.title, c.text,
  c.start_offset, c.end_offset, c.heading_path`;
const CHUNK_JOINS = `FROM library.chunks c
  JOIN library.documents d ON d.id = c.document_id
  JOIN library.document_versions v ON v.document_id = c.document_id AND v.version = c.version`;

/** title, source, author, license, media_type, tags: the document row's metadata columns. */
const documentColumns = (input: VersionToStore) => [
  input.title,
  input.source,
  input.author ?? null,
  input.license,
  input.mediaType,
  input.tags,
];

/** The library's persistence in the tenant's own database (see `ensureLibrarySchema`). */
export function createLibraryStore(pool: Pool, engine: VectorEngine): LibraryStore {
  return {
    engine,
    async storeVersion(input) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        let documentId = input.documentId;
        let version = 1;
        if (documentId !== undefined) {
          // The document row is locked: concurrent re-ingestions get consecutive versions.
          const { rows } = await client.query<{ latest_version: number; digest: string }>(
            `SELECT d.latest_version, v.content_digest AS digest
               FROM library.documents d
               JOIN library.document_versions v
                 ON v.document_id = d.id AND v.version = d.latest_version
              WHERE d.id = $1 FOR UPDATE OF d`,
            [documentId],
          );
          const latest = rows[0];
          if (latest === undefined) throw new DocumentNotFoundError(documentId);
          if (latest.digest === input.contentDigest) {
            await client.query('ROLLBACK');
            return { documentId, version: latest.latest_version, unchanged: true };
          }
          version = latest.latest_version + 1;
          await client.query(
            `UPDATE library.documents SET title = $2, source = $3, author = $4, license = $5,
               media_type = $6, tags = $7, latest_version = $8, updated_at = now() WHERE id = $1`,
            [documentId, ...documentColumns(input), version],
          );
        } else {
          documentId = randomUUID();
          await client.query(
            `INSERT INTO library.documents
               (id, title, source, author, license, media_type, tags, latest_version, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)`,
            [documentId, ...documentColumns(input), input.ingestedBy],
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
        for (const chunk of input.chunks) {
          await client.query(
            `INSERT INTO library.chunks
               (id, document_id, version, ordinal, text, start_offset, end_offset, heading_path,
                embedding)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
            [
              randomUUID(),
              documentId,
              version,
              chunk.ordinal,
              chunk.text,
              chunk.start,
              chunk.end,
              chunk.headingPath,
              vectorLiteral(chunk.embedding, engine),
            ],
          );
        }
        const event = { documentId, version, chunks: input.chunks.length };
        await client.query(
          `INSERT INTO library.outbox (event_type, payload)
           VALUES ('DocumentIngested', $1), ('DocumentIndexed', $1)`,
          [JSON.stringify(event)],
        );
        await client.query('COMMIT');
        return { documentId, version, unchanged: false };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
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
        latest_version: number;
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
      }>(
        `SELECT v.version, v.content_digest, v.ingested_by, v.ingested_at, v.training_allowed,
                v.redaction_report,
                (SELECT count(*) FROM library.chunks c
                  WHERE c.document_id = v.document_id AND c.version = v.version) AS chunks
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
        latestVersion: document.latest_version,
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
        })),
      };
    },

    async latestVersion(documentId) {
      const { rows } = await pool.query<{
        version: number;
        content_digest: string;
        chunks: string;
      }>(
        `SELECT v.version, v.content_digest,
                (SELECT count(*) FROM library.chunks c
                  WHERE c.document_id = v.document_id AND c.version = v.version) AS chunks
           FROM library.documents d
           JOIN library.document_versions v ON v.document_id = d.id AND v.version = d.latest_version
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
           JOIN library.documents d ON d.id = v.document_id AND d.latest_version = v.version
          WHERE v.content_digest = $1`,
        [digest],
      );
      return rows.map((row) => ({ documentId: row.document_id, version: row.version }));
    },

    async latestSignatures() {
      const { rows } = await pool.query<{ document_id: string; minhash: Buffer }>(
        `SELECT v.document_id, v.minhash FROM library.document_versions v
           JOIN library.documents d ON d.id = v.document_id AND d.latest_version = v.version
          WHERE v.minhash IS NOT NULL`,
      );
      return rows.map((row) => ({ documentId: row.document_id, minhash: row.minhash }));
    },

    async fullTextRanking(query, filters, limit) {
      const where = filterClause(filters, 3);
      const { rows } = await pool.query<ChunkRow>(
        `SELECT ${CHUNK_COLUMNS}, ts_rank_cd(c.tsv, q) AS score
           ${CHUNK_JOINS}, websearch_to_tsquery('english', $1) q
          WHERE c.tsv @@ q AND ${where.sql}
          ORDER BY score DESC, c.id
          LIMIT $2`,
        [query, limit, ...where.values],
      );
      return rows.map(toRanked);
    },

    async vectorRanking(embedding, filters, limit) {
      const where = filterClause(filters, engine === 'pgvector' ? 3 : 1);
      if (engine === 'pgvector') {
        const { rows } = await pool.query<ChunkRow>(
          `SELECT ${CHUNK_COLUMNS}, 1 - (c.embedding <=> $1::vector) AS score
             ${CHUNK_JOINS}
            WHERE ${where.sql}
            ORDER BY c.embedding <=> $1::vector, c.id
            LIMIT $2`,
          [vectorLiteral(embedding, engine), limit, ...where.values],
        );
        return rows.map(toRanked);
      }
      // No pgvector: exact search in the service over the filtered chunks.
      const { rows } = await pool.query<ChunkRow & { embedding: number[] }>(
        `SELECT ${CHUNK_COLUMNS}, 0 AS score, c.embedding ${CHUNK_JOINS} WHERE ${where.sql}
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
  };
}

/** A re-ingestion names a document that does not exist (in this tenant). */
export class DocumentNotFoundError extends Error {
  readonly documentId: string;
  constructor(documentId: string) {
    super(`document ${documentId} does not exist`);
    this.name = 'DocumentNotFoundError';
    this.documentId = documentId;
  }
}
