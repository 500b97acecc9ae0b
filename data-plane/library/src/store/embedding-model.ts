import type { Pool, PoolClient } from 'pg';
import type { EmbeddingProvider } from '../embeddings/index.ts';
import { vectorLiteral, type VectorEngine } from './library-schema.ts';

/** Which model the stored vectors come from: provider id, model and dimensions. */
export function embeddingModelKey(embedder: EmbeddingProvider): string {
  return `${embedder.id}/${embedder.model}/${String(embedder.dimensions)}`;
}

/**
 * The embedding model of a tenant's stored vectors (`library.embedding_model`, one row), and
 * the re-embedding that follows a change of model.
 *
 * A chunk whose `embedding` is NULL waits to be embedded with the current model: full-text
 * search finds it meanwhile, vector search does not. Changing the model sets every
 * embedding to NULL (and retypes the column for new dimensions) in one transaction; the
 * service's worker then re-embeds in batches. Progress is the NULLs themselves, so a
 * process killed mid-way resumes where it stopped. An ingestion that embedded with the old
 * model and commits after the change stores NULLs (it checks the model under a share lock):
 * no vector of another model ever sits among the new ones.
 */
export interface EmbeddingModelStore {
  /**
   * Makes `embedder` the model of the stored vectors. Answers whether the vectors were
   * reset (the model changed since they were made).
   */
  adopt(embedder: EmbeddingProvider): Promise<{ reset: boolean }>;
  /** Chunks waiting for an embedding of the current model. */
  pending(): Promise<number>;
  /** Embeds up to `limit` waiting chunks with `embedder`; answers how many. */
  embedPending(embedder: EmbeddingProvider, limit: number): Promise<number>;
}

/** The current model's key, read under a share lock inside an ingestion's transaction. */
export async function currentEmbeddingModel(client: PoolClient): Promise<string | undefined> {
  const { rows } = await client.query<{ model_key: string }>(
    'SELECT model_key FROM library.embedding_model FOR SHARE',
  );
  return rows[0]?.model_key;
}

export function createEmbeddingModelStore(pool: Pool, engine: VectorEngine): EmbeddingModelStore {
  return {
    async adopt(embedder) {
      const key = embeddingModelKey(embedder);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ model_key: string; dimensions: number }>(
          'SELECT model_key, dimensions FROM library.embedding_model FOR UPDATE',
        );
        const current = rows[0];
        if (current === undefined) {
          // The first model: whatever vectors exist were made with it.
          await client.query(
            `INSERT INTO library.embedding_model (model_key, dimensions) VALUES ($1, $2)
             ON CONFLICT DO NOTHING`,
            [key, embedder.dimensions],
          );
          await client.query('COMMIT');
          return { reset: false };
        }
        if (current.model_key === key) {
          await client.query('COMMIT');
          return { reset: false };
        }
        if (engine === 'pgvector' && current.dimensions !== embedder.dimensions) {
          await client.query('DROP INDEX IF EXISTS library.chunks_embedding_current');
          await client.query(
            `ALTER TABLE library.chunks ALTER COLUMN embedding TYPE vector(${String(embedder.dimensions)}) USING NULL`,
          );
          await client.query(
            `CREATE INDEX chunks_embedding_current ON library.chunks
               USING hnsw (embedding vector_cosine_ops) WHERE is_current`,
          );
        } else {
          await client.query(
            'UPDATE library.chunks SET embedding = NULL WHERE embedding IS NOT NULL',
          );
        }
        await client.query(
          'UPDATE library.embedding_model SET model_key = $1, dimensions = $2, changed_at = now()',
          [key, embedder.dimensions],
        );
        await client.query('COMMIT');
        return { reset: true };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    async pending() {
      const { rows } = await pool.query<{ count: string }>(
        'SELECT count(*) FROM library.chunks WHERE embedding IS NULL',
      );
      return Number(rows[0]?.count ?? 0);
    },

    async embedPending(embedder, limit) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        if ((await currentEmbeddingModel(client)) !== embeddingModelKey(embedder)) {
          // The model changed again under us: the next pass embeds with the new one.
          await client.query('ROLLBACK');
          return 0;
        }
        // Current versions first: they are what searches read.
        const { rows } = await client.query<{ id: string; text: string }>(
          `SELECT id, text FROM library.chunks WHERE embedding IS NULL
            ORDER BY is_current DESC, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [limit],
        );
        if (rows.length === 0) {
          await client.query('ROLLBACK');
          return 0;
        }
        const vectors = await embedder.embed(rows.map((row) => row.text));
        await client.query(
          `UPDATE library.chunks c SET embedding = t.embedding::${engine === 'pgvector' ? 'vector' : 'real[]'}
             FROM unnest($1::uuid[], $2::text[]) AS t(id, embedding) WHERE c.id = t.id`,
          [
            rows.map((row) => row.id),
            rows.map((_, index) =>
              vectorLiteral(vectors[index] ?? new Float32Array(embedder.dimensions), engine),
            ),
          ],
        );
        await client.query('COMMIT');
        return rows.length;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}
