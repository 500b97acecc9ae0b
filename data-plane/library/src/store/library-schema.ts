import type { Pool, PoolClient } from 'pg';

/** The vector engine the tenant's database offers the library. */
export type VectorEngine = 'pgvector' | 'exact';

/** Dimensions of the stored embeddings (the embedder must produce exactly these). */
export interface LibrarySchemaOptions {
  dimensions: number;
  /** The vectors are searched in an external index (Milvus): no HNSW index in PostgreSQL. */
  externalIndex?: boolean;
}

/**
 * The library's tables in the tenant's own database (schema `library`, owned by the tenant's
 * role, created at the service's start; every statement is idempotent):
 *
 * - `documents`: one row per document (title, source, author, licence, tags, its latest
 *   version); `document_versions`: every ingested version with its redacted text (what
 *   citations point into), digest, MinHash signature, redaction report and provenance;
 * - `chunks`: the chunks of a version with their character spans, heading path, a
 *   generated `tsvector` for full-text search and the embedding — `vector(n)` with an HNSW
 *   index when pgvector is installed, `real[]` searched exactly by the service otherwise;
 * - `vector_deletions`, and `generation`/`vector_synced_generation` on documents: what an
 *   external vector index (Milvus) has yet to catch up with (see `vector-index-sync.ts`);
 * - `embedding_model`: which model the stored vectors come from (see `embedding-model.ts`;
 *   a chunk's NULL embedding waits for the current model);
 * - `minhash_bands`: the LSH index of the versions' MinHash signatures (near-duplicate
 *   candidates without reading every signature);
 * - `originals`: the original (unredacted) upload of a version, encrypted with the tenant's
 *   data key, kept only when the tenant's retention policy says so and until it expires;
 * - `snapshots` / `snapshot_members`: named sets of document versions (search "as of",
 *   roll back to);
 * - `ingestion_jobs`: every ingestion as a resumable job (its input encrypted), finished in
 *   the same transaction that writes the version, so a retry never duplicates a document;
 * - `outbox`: DocumentIngested / DocumentIndexed events, written in the ingest transaction.
 *
 * `documents.current_version` is the version searches see (null: the document is not in the
 * current knowledge base, e.g. after a rollback to a snapshot without it); `chunks.is_current`
 * mirrors it per chunk so the HNSW index covers current chunks only.
 *
 * A version and all its chunks are written in one transaction: a crash never leaves a
 * half-indexed version visible.
 */
export async function ensureLibrarySchema(
  pool: Pool,
  options: LibrarySchemaOptions,
): Promise<VectorEngine> {
  const client = await pool.connect();
  try {
    // One service instance migrates at a time (a restarted host racing its predecessor).
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('citadel-library', 0))");
    const engine = await vectorEngineOf(client);
    const embeddingType = engine === 'pgvector' ? `vector(${options.dimensions})` : 'real[]';
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS library;
      CREATE TABLE IF NOT EXISTS library.documents (
        id uuid PRIMARY KEY,
        title text NOT NULL,
        source text NOT NULL,
        author text,
        license text NOT NULL,
        media_type text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        classification text NOT NULL DEFAULT 'internal',
        owner_id text,
        latest_version integer NOT NULL,
        current_version integer,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS library.document_versions (
        document_id uuid NOT NULL REFERENCES library.documents (id) ON DELETE CASCADE,
        version integer NOT NULL,
        content_digest text NOT NULL,
        minhash bytea,
        text text NOT NULL,
        redaction_report jsonb NOT NULL,
        training_allowed boolean NOT NULL,
        ingested_by text NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (document_id, version)
      );
      CREATE INDEX IF NOT EXISTS document_versions_digest
        ON library.document_versions (content_digest);
      CREATE TABLE IF NOT EXISTS library.chunks (
        id uuid PRIMARY KEY,
        document_id uuid NOT NULL,
        version integer NOT NULL,
        ordinal integer NOT NULL,
        text text NOT NULL,
        start_offset integer NOT NULL,
        end_offset integer NOT NULL,
        heading_path text[] NOT NULL DEFAULT '{}',
        is_current boolean NOT NULL DEFAULT true,
        tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
        embedding ${embeddingType},
        FOREIGN KEY (document_id, version)
          REFERENCES library.document_versions (document_id, version) ON DELETE CASCADE
      );
      CREATE INDEX IF NOT EXISTS chunks_document ON library.chunks (document_id, version);
      CREATE INDEX IF NOT EXISTS chunks_tsv ON library.chunks USING gin (tsv);
      ALTER TABLE library.chunks ALTER COLUMN embedding DROP NOT NULL;
      -- Kept in the row, uncompressed: ranking reads the tsvector of every match, and
      -- de-toasting it was most of a full-text search's time (measured: p95 376 → 110 ms at
      -- 100,000 chunks, docs/benchmarks.md).
      ALTER TABLE library.chunks ALTER COLUMN tsv SET STORAGE MAIN;
      CREATE INDEX IF NOT EXISTS chunks_unembedded ON library.chunks (id) WHERE embedding IS NULL;
      ALTER TABLE library.documents
        ADD COLUMN IF NOT EXISTS generation integer NOT NULL DEFAULT 1,
        ADD COLUMN IF NOT EXISTS vector_synced_generation integer NOT NULL DEFAULT 0,
        ADD COLUMN IF NOT EXISTS vector_access text;
      CREATE INDEX IF NOT EXISTS documents_vector_lag ON library.documents (updated_at)
        WHERE vector_synced_generation < generation;
      ALTER TABLE library.document_versions
        ADD COLUMN IF NOT EXISTS vectors_indexed boolean NOT NULL DEFAULT false;
      CREATE TABLE IF NOT EXISTS library.vector_deletions (
        id bigserial PRIMARY KEY,
        document_id uuid NOT NULL,
        versions integer[]
      );
      CREATE TABLE IF NOT EXISTS library.embedding_model (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        model_key text NOT NULL,
        dimensions integer NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS library.minhash_bands (
        band smallint NOT NULL,
        bucket bigint NOT NULL,
        document_id uuid NOT NULL,
        version integer NOT NULL,
        PRIMARY KEY (band, bucket, document_id, version),
        FOREIGN KEY (document_id, version)
          REFERENCES library.document_versions (document_id, version) ON DELETE CASCADE
      );
      CREATE TABLE IF NOT EXISTS library.originals (
        document_id uuid NOT NULL,
        version integer NOT NULL,
        media_type text NOT NULL,
        size_bytes integer NOT NULL,
        key_version integer NOT NULL,
        ciphertext bytea NOT NULL,
        expires_at timestamptz,
        PRIMARY KEY (document_id, version),
        FOREIGN KEY (document_id, version)
          REFERENCES library.document_versions (document_id, version) ON DELETE CASCADE
      );
      CREATE INDEX IF NOT EXISTS originals_expiry ON library.originals (expires_at)
        WHERE expires_at IS NOT NULL;
      CREATE TABLE IF NOT EXISTS library.snapshots (
        name text PRIMARY KEY,
        description text NOT NULL DEFAULT '',
        documents integer NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS library.snapshot_members (
        snapshot text NOT NULL REFERENCES library.snapshots (name) ON DELETE CASCADE,
        document_id uuid NOT NULL,
        version integer NOT NULL,
        PRIMARY KEY (snapshot, document_id),
        FOREIGN KEY (document_id, version)
          REFERENCES library.document_versions (document_id, version) ON DELETE CASCADE
      );
      CREATE TABLE IF NOT EXISTS library.ingestion_jobs (
        id uuid PRIMARY KEY,
        idempotency_key text UNIQUE,
        request_digest text NOT NULL,
        document_id uuid NOT NULL,
        state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        lease_until timestamptz,
        input bytea,
        input_key_version integer,
        result jsonb,
        problem jsonb,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS ingestion_jobs_pending ON library.ingestion_jobs (created_at)
        WHERE state IN ('queued', 'running');
      CREATE TABLE IF NOT EXISTS library.outbox (
        id bigserial PRIMARY KEY,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      );
    `);
    // An existing table keeps the type it was made with (pgvector installed later is used
    // once the chunks table is rebuilt, not before).
    const { rows } = await client.query<{ type: string }>(
      `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = 'library.chunks'::regclass AND attname = 'embedding'`,
    );
    const stored: VectorEngine = rows[0]?.type.startsWith('vector') ? 'pgvector' : 'exact';
    if (stored === 'pgvector' && !options.externalIndex) {
      await client.query(
        // Only the current versions' chunks: what every search but an "as of" one reads.
        `CREATE INDEX IF NOT EXISTS chunks_embedding_current ON library.chunks
           USING hnsw (embedding vector_cosine_ops) WHERE is_current`,
      );
    }
    await client.query('COMMIT');
    return stored;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** pgvector when the extension is installed in the tenant's database (the operator does that). */
async function vectorEngineOf(client: PoolClient): Promise<VectorEngine> {
  const { rows } = await client.query<{ installed: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS installed",
  );
  return rows[0]?.installed ? 'pgvector' : 'exact';
}

/** An embedding as pgvector's text input (`[0.1,0.2]`), also accepted by a `real[]` cast. */
export function vectorLiteral(embedding: Float32Array, engine: VectorEngine): string {
  const values = Array.from(embedding, (value) => (Number.isFinite(value) ? value : 0));
  return engine === 'pgvector' ? `[${values.join(',')}]` : `{${values.join(',')}}`;
}
