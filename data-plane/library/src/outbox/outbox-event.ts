import type { Pool } from 'pg';

/** One committed event of `library.outbox`, as consumers receive it. */
export interface OutboxEvent {
  /** Increasing in commit order (see `ensureOutboxNotifications`). */
  id: bigint;
  /** `DocumentIngested` or `DocumentIndexed`. */
  type: string;
  occurredAt: Date;
  /** What the writer recorded: `{ documentId, version, chunks }` for document events. */
  payload: Readonly<Record<string, unknown>>;
}

/** A page of committed events, read together with the purge mark in one snapshot. */
export interface OutboxPage {
  events: OutboxEvent[];
  /** The highest id purged past the retention: events at or below it are gone. */
  purgedThrough: bigint;
}

interface PageRow {
  purged_through: string;
  id: string | null;
  event_type: string | null;
  payload: Record<string, unknown> | null;
  created_at: Date | null;
}

/** Up to `limit` committed events after `afterId`, in id order, and the purge mark. */
export async function readOutboxPage(
  pool: Pool,
  afterId: bigint,
  limit: number,
): Promise<OutboxPage> {
  const { rows } = await pool.query<PageRow>(
    `SELECT r.purged_through::text AS purged_through,
            e.id::text AS id, e.event_type, e.payload, e.created_at
       FROM library.outbox_retention AS r
       LEFT JOIN LATERAL (
         SELECT id, event_type, payload, created_at FROM library.outbox
          WHERE id > $1 ORDER BY id LIMIT $2
       ) AS e ON true
      ORDER BY e.id`,
    [afterId.toString(), limit],
  );
  const events = rows.flatMap((row): OutboxEvent[] =>
    row.id === null || row.event_type === null || row.created_at === null
      ? []
      : [
          {
            id: BigInt(row.id),
            type: row.event_type,
            occurredAt: row.created_at,
            payload: row.payload ?? {},
          },
        ],
  );
  return { events, purgedThrough: BigInt(rows[0]?.purged_through ?? '0') };
}

/** The highest event id committed so far; 0 when there is none. */
export async function latestOutboxEventId(pool: Pool): Promise<bigint> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT coalesce(max(id), 0)::text AS id FROM library.outbox',
  );
  return BigInt(rows[0]?.id ?? '0');
}
