import type { Pool } from 'pg';
import type { ChunkVector, VectorIndex } from '../vector/index.ts';
import { inTransaction } from './in-transaction.ts';

/**
 * Keeps an external vector index (Milvus) in step with the tenant's database, which stays
 * the source of truth: chunks and their embeddings are written to PostgreSQL first, in the
 * ingestion's transaction, and the index is derived from them.
 *
 * Every change to a document — a new version, a rollback, a reclassification, a deleted
 * version — bumps `documents.generation`; the index has caught up with a document when its
 * `vector_synced_generation` equals it. Deletions leave a row in `library.vector_deletions`.
 * `syncDocument` runs right after each change; `syncPending` (the service's worker) finishes
 * whatever a crash or an unreachable index left behind. Every index operation is idempotent
 * (upserts by chunk id), so a sync repeated after a crash converges. `DocumentIndexed` is
 * written when a version's vectors are in the index, not before.
 */
export interface VectorIndexSync {
  /** Brings one document's vectors in the index up to date. */
  syncDocument(documentId: string): Promise<void>;
  /** Applies pending deletions and syncs documents the index lags behind; answers how many. */
  syncPending(limit: number): Promise<number>;
  /** Documents and deletions the index has not caught up with. */
  pending(): Promise<number>;
}

interface DocumentRow {
  id: string;
  license: string;
  source: string;
  tags: string[];
  classification: string;
  owner_id: string | null;
  current_version: number | null;
  generation: number;
  vector_access: string | null;
}

interface ChunkRow {
  id: string;
  version: number;
  ingested_at: Date;
  embedding: string | number[];
}

/** pgvector's text form `[0.1,0.2]` or a `real[]`, as a Float32Array. */
function vectorOf(value: string | number[]): Float32Array {
  if (Array.isArray(value)) return Float32Array.from(value);
  return Float32Array.from(value.slice(1, -1).split(','), Number);
}

/** What the index holds of a document's access: its classification and owner. */
const accessKey = (row: DocumentRow) => JSON.stringify([row.classification, row.owner_id]);

export function createVectorIndexSync(pool: Pool, index: VectorIndex): VectorIndexSync {
  async function upsertVersions(document: DocumentRow): Promise<number[]> {
    const { rows: versions } = await pool.query<{ version: number }>(
      `SELECT version FROM library.document_versions
        WHERE document_id = $1 AND NOT vectors_indexed ORDER BY version`,
      [document.id],
    );
    for (const { version } of versions) {
      const { rows } = await pool.query<ChunkRow>(
        `SELECT c.id, c.version, v.ingested_at, c.embedding::text AS embedding
           FROM library.chunks c
           JOIN library.document_versions v ON v.document_id = c.document_id AND v.version = c.version
          WHERE c.document_id = $1 AND c.version = $2 AND c.embedding IS NOT NULL`,
        [document.id, version],
      );
      const records: ChunkVector[] = rows.map((row) => ({
        chunkId: row.id,
        documentId: document.id,
        version: row.version,
        embedding: vectorOf(row.embedding),
        license: document.license,
        source: document.source,
        tags: document.tags,
        classification: document.classification,
        ownerId: document.owner_id ?? undefined,
        ingestedAt: row.ingested_at,
        current: row.version === document.current_version,
      }));
      if (records.length > 0) await index.upsert(records);
    }
    return versions.map((row) => row.version);
  }

  async function syncDocument(documentId: string): Promise<void> {
    const { rows } = await pool.query<DocumentRow>(
      `SELECT id, license, source, tags, classification, owner_id, current_version, generation,
              vector_access
         FROM library.documents WHERE id = $1 AND vector_synced_generation < generation`,
      [documentId],
    );
    const document = rows[0];
    if (!document) return;
    const indexed = await upsertVersions(document);
    await index.setCurrentVersion(documentId, document.current_version ?? undefined);
    if (document.vector_access !== null && document.vector_access !== accessKey(document)) {
      await index.setDocumentAccess(documentId, {
        classification: document.classification,
        ownerId: document.owner_id ?? undefined,
      });
    }
    await inTransaction(pool, async (client) => {
      await client.query(
        `UPDATE library.documents SET vector_synced_generation = $2, vector_access = $3
            WHERE id = $1 AND vector_synced_generation < $2`,
        [documentId, document.generation, accessKey(document)],
      );
      if (indexed.length > 0) {
        await client.query(
          `UPDATE library.document_versions SET vectors_indexed = true
              WHERE document_id = $1 AND version = ANY($2::int[])`,
          [documentId, indexed],
        );
        await client.query(
          `INSERT INTO library.outbox (event_type, payload)
             SELECT 'DocumentIndexed', jsonb_build_object('documentId', $1::uuid, 'version', v,
                      'chunks', (SELECT count(*) FROM library.chunks c
                                  WHERE c.document_id = $1 AND c.version = v))
               FROM unnest($2::int[]) AS v`,
          [documentId, indexed],
        );
      }
    });
  }

  return {
    syncDocument,

    async syncPending(limit) {
      let done = 0;
      const { rows: deletions } = await pool.query<{
        id: string;
        document_id: string;
        versions: number[] | null;
      }>('SELECT id, document_id, versions FROM library.vector_deletions ORDER BY id LIMIT $1', [
        limit,
      ]);
      for (const deletion of deletions) {
        await index.deleteDocument(deletion.document_id, deletion.versions ?? undefined);
        await pool.query('DELETE FROM library.vector_deletions WHERE id = $1', [deletion.id]);
        done += 1;
      }
      const { rows: lagging } = await pool.query<{ id: string }>(
        `SELECT id FROM library.documents WHERE vector_synced_generation < generation
          ORDER BY updated_at LIMIT $1`,
        [limit],
      );
      for (const { id } of lagging) {
        await syncDocument(id);
        done += 1;
      }
      return done;
    },

    async pending() {
      const { rows } = await pool.query<{ count: string }>(
        `SELECT (SELECT count(*) FROM library.documents WHERE vector_synced_generation < generation)
              + (SELECT count(*) FROM library.vector_deletions) AS count`,
      );
      return Number(rows[0]?.count ?? 0);
    },
  };
}
