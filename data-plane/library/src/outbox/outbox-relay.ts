import type { Pool } from 'pg';

/** Seven days: how long published events stay for consumers that resume late. */
export const DEFAULT_OUTBOX_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface OutboxRelayOptions {
  pool: Pool;
  /** Published events older than this are purged. Default 7 days. */
  retentionMs?: number;
  /** Rows deleted per statement, so a purge never holds locks long. Default 5000. */
  purgeBatchSize?: number;
}

/** The relay's bookkeeping on `library.outbox`: what was published, and what may go. */
export interface OutboxRelay {
  /** Marks every event up to `throughId` published; answers how many it marked. */
  markPublished(throughId: bigint): Promise<number>;
  /**
   * Deletes the published events older than the retention, oldest first, and never one
   * after an event still unpublished or within the retention: what remains is always every
   * event above the purge mark. Answers how many it deleted.
   */
  purge(): Promise<number>;
}

/**
 * One batch of the purge: the oldest events below the first one that must stay, deleted
 * together with the move of the purge mark, so a reader sees both or neither.
 */
const PURGE_BATCH = `
  WITH keep AS (
    SELECT id FROM library.outbox
     WHERE published_at IS NULL OR published_at >= now() - make_interval(secs => $1 / 1000.0)
     ORDER BY id LIMIT 1
  ), doomed AS (
    SELECT id FROM library.outbox
     WHERE id < coalesce((SELECT id FROM keep), 9223372036854775807)
     ORDER BY id LIMIT $2
  ), deleted AS (
    DELETE FROM library.outbox AS o USING doomed WHERE o.id = doomed.id RETURNING o.id
  )
  UPDATE library.outbox_retention
     SET purged_through = greatest(purged_through, (SELECT max(id) FROM deleted)),
         purged_at = now()
   WHERE EXISTS (SELECT 1 FROM deleted)
  RETURNING (SELECT count(*) FROM deleted)::int AS deleted`;

/** The relay's statements on the tenant's pool; its tables come from `ensureOutboxNotifications`. */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { pool } = options;
  const retentionMs = options.retentionMs ?? DEFAULT_OUTBOX_RETENTION_MS;
  const batchSize = options.purgeBatchSize ?? 5_000;
  return {
    async markPublished(throughId) {
      const result = await pool.query(
        'UPDATE library.outbox SET published_at = now() WHERE published_at IS NULL AND id <= $1',
        [throughId.toString()],
      );
      return result.rowCount ?? 0;
    },

    async purge() {
      let total = 0;
      for (;;) {
        const { rows } = await pool.query<{ deleted: number }>(PURGE_BATCH, [
          retentionMs,
          batchSize,
        ]);
        const deleted = rows[0]?.deleted ?? 0;
        total += deleted;
        if (deleted < batchSize) return total;
      }
    },
  };
}
