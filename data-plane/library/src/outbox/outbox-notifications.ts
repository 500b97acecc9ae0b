import type { Pool } from 'pg';

/** The channel `library.outbox` inserts notify, with the new event's id as the payload. */
export const OUTBOX_CHANNEL = 'library_outbox';

/** Marks the installed version of the triggers: a service that finds it changes nothing. */
const OUTBOX_TRIGGERS_VERSION = 'citadel-library-outbox 1';

const INSTALL_TRIGGERS = `
  -- Serialises outbox writers from their insert to their commit, and numbers their events
  -- only once they hold the lock: ids then become visible in increasing order, so a consumer
  -- that read id n never sees a smaller id commit later (bigserial alone gives no such
  -- promise: a transaction can take id 10, another id 11 and commit first).
  CREATE OR REPLACE FUNCTION library.outbox_in_commit_order() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtextextended('citadel-library-outbox-order', 0));
      NEW.id := nextval(pg_get_serial_sequence('library.outbox', 'id'));
      RETURN NEW;
    END $$;
  CREATE OR REPLACE FUNCTION library.outbox_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      -- Delivered at commit, and never for a transaction that rolls back.
      PERFORM pg_notify('${OUTBOX_CHANNEL}', NEW.id::text);
      RETURN NULL;
    END $$;
  CREATE OR REPLACE TRIGGER outbox_in_commit_order BEFORE INSERT ON library.outbox
    FOR EACH ROW EXECUTE FUNCTION library.outbox_in_commit_order();
  CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON library.outbox
    FOR EACH ROW EXECUTE FUNCTION library.outbox_notify();
  -- What the relay has not marked published yet.
  CREATE INDEX IF NOT EXISTS outbox_unpublished ON library.outbox (id) WHERE published_at IS NULL;
  -- The highest id purged past the retention: a consumer resuming before it has lost events.
  CREATE TABLE IF NOT EXISTS library.outbox_retention (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    purged_through bigint NOT NULL DEFAULT 0,
    purged_at timestamptz
  );
  INSERT INTO library.outbox_retention DEFAULT VALUES ON CONFLICT DO NOTHING;
  COMMENT ON FUNCTION library.outbox_notify() IS '${OUTBOX_TRIGGERS_VERSION}';
`;

/**
 * Makes `library.outbox` (created by the library's schema) tell its consumers about each
 * committed event: `pg_notify('library_outbox', id)` after every insert, ids visible in
 * commit order, and the relay's retention bookkeeping. Idempotent and cheap once installed
 * (one catalog read); service instances starting together install it once, under a lock.
 */
export async function ensureOutboxNotifications(pool: Pool): Promise<void> {
  if (await triggersInstalled(pool)) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtextextended('citadel-library-outbox-install', 0))",
    );
    await client.query(INSTALL_TRIGGERS);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function triggersInstalled(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ installed: boolean }>(
    `SELECT obj_description(oid, 'pg_proc') = $1
              AND (SELECT count(*) FROM pg_trigger
                    WHERE tgrelid = 'library.outbox'::regclass
                      AND tgname IN ('outbox_in_commit_order', 'outbox_notify')) = 2
              AS installed
       FROM pg_proc WHERE oid = to_regprocedure('library.outbox_notify()')`,
    [OUTBOX_TRIGGERS_VERSION],
  );
  return rows[0]?.installed === true;
}
