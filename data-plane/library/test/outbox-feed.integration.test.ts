import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLineLogger } from '@citadel/data-plane-runtime';
import {
  createTestTenantDatabase,
  type TestTenantDatabase,
} from '../../runtime/test/test-tenant-database.ts';
import {
  createLibraryOutbox,
  createOutboxFeed,
  ensureOutboxNotifications,
  OutboxEventsPurgedError,
  OUTBOX_CHANNEL,
  outboxSettingsOf,
  type OutboxEvent,
  type OutboxFeed,
} from '../src/outbox/index.ts';
import { ensureLibrarySchema } from '../src/store/library-schema.ts';

let database: TestTenantDatabase;
let pool: pg.Pool;
const logLines: string[] = [];
const logger = createJsonLineLogger({ write: (line: string) => logLines.push(line) });

beforeAll(async () => {
  database = await createTestTenantDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 5 });
  await ensureLibrarySchema(pool, { dimensions: 8 });
  await ensureOutboxNotifications(pool);
}, 120_000);

afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** A client of its own, as the tenant's role: the tests' "other writer". */
async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return client;
}

/** Commits one event per type, in one transaction; answers the ids. */
async function commitEvents(...types: string[]): Promise<bigint[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const ids: bigint[] = [];
    for (const type of types) {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO library.outbox (event_type, payload) VALUES ($1, $2) RETURNING id::text`,
        [type, JSON.stringify({ documentId: crypto.randomUUID(), version: 1, chunks: 1 })],
      );
      ids.push(BigInt(rows[0]?.id ?? '0'));
    }
    await client.query('COMMIT');
    return ids;
  } finally {
    client.release();
  }
}

/** Reads from `events` until `until` says stop; fails after `timeoutMs`. */
async function take(
  events: AsyncGenerator<OutboxEvent, void, undefined>,
  until: (received: OutboxEvent[]) => boolean,
  timeoutMs = 10_000,
): Promise<OutboxEvent[]> {
  const received: OutboxEvent[] = [];
  const deadline = sleep(timeoutMs).then(() => {
    throw new Error(`timed out after ${received.length} events`);
  });
  // next(), not for await: leaving a for await loop would end the subscription.
  const reading = (async () => {
    for (;;) {
      const next = await events.next();
      if (next.done) return received;
      received.push(next.value);
      if (until(received)) return received;
    }
  })();
  return Promise.race([reading, deadline]);
}

function byId(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function ids(events: readonly OutboxEvent[]): bigint[] {
  return events.map((event) => event.id);
}

async function listeners(): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM pg_stat_activity
      WHERE datname = current_database() AND query = $1`,
    [`LISTEN ${OUTBOX_CHANNEL}`],
  );
  return rows[0]?.count ?? 0;
}

describe('ensureOutboxNotifications', () => {
  it('is idempotent, and notifies at commit only, never for a rollback', async () => {
    await ensureOutboxNotifications(pool);
    await Promise.all([ensureOutboxNotifications(pool), ensureOutboxNotifications(pool)]);
    const listener = await connect();
    const writer = await connect();
    try {
      const notified: string[] = [];
      listener.on('notification', (message) => notified.push(message.payload ?? ''));
      await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);

      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO library.outbox (event_type, payload) VALUES ('RolledBack', '{}')`,
      );
      await sleep(100);
      expect(notified).toEqual([]);
      await writer.query('ROLLBACK');

      await writer.query('BEGIN');
      const { rows } = await writer.query<{ id: string }>(
        `INSERT INTO library.outbox (event_type, payload) VALUES ('Committed', '{}') RETURNING id::text`,
      );
      await sleep(100);
      expect(notified).toEqual([]);
      await writer.query('COMMIT');
      await expect.poll(() => notified).toEqual([rows[0]?.id]);
    } finally {
      await listener.end();
      await writer.end();
    }
  });

  it('numbers events in commit order: a later writer waits for the earlier one to commit', async () => {
    const first = await connect();
    const second = await connect();
    try {
      await first.query('BEGIN');
      const early = await first.query<{ id: string }>(
        `INSERT INTO library.outbox (event_type, payload) VALUES ('First', '{}') RETURNING id::text`,
      );
      await second.query('BEGIN');
      let secondInserted = false;
      const late = second
        .query<{ id: string }>(
          `INSERT INTO library.outbox (event_type, payload) VALUES ('Second', '{}') RETURNING id::text`,
        )
        .then((result) => {
          secondInserted = true;
          return result;
        });
      await sleep(300);
      // Without the ordering trigger it would hold a larger id and could commit first.
      expect(secondInserted).toBe(false);
      await first.query('COMMIT');
      const lateId = BigInt((await late).rows[0]?.id ?? '0');
      await second.query('COMMIT');
      expect(lateId).toBeGreaterThan(BigInt(early.rows[0]?.id ?? '0'));
    } finally {
      await first.end();
      await second.end();
    }
  });
});

describe('the outbox feed', () => {
  let feed: OutboxFeed;

  beforeAll(() => {
    feed = createOutboxFeed({
      pool,
      logger,
      pollIntervalMs: 200,
      listenerLingerMs: 200,
      batchSize: 4,
      bufferLimit: 5,
    });
  });

  afterAll(async () => {
    await feed.close();
  });

  it('replays committed events after an id, then delivers new ones as they commit', async () => {
    const before = await commitEvents('DocumentIngested', 'DocumentIndexed');
    const start = (before[0] ?? 0n) - 1n;
    const controller = new AbortController();
    const events = feed.events(start, controller.signal);
    const replayed = await take(events, (received) => received.length === 2);
    expect(ids(replayed)).toEqual(before);
    expect(replayed.map((event) => event.type)).toEqual(['DocumentIngested', 'DocumentIndexed']);

    const later = await commitEvents('DocumentIngested', 'DocumentIndexed');
    const live = await take(events, (received) => received.length === 2);
    expect(ids(live)).toEqual(later);
    expect(live[0]?.payload).toMatchObject({ version: 1, chunks: 1 });
    expect(live[0]?.occurredAt).toBeInstanceOf(Date);
    controller.abort();
    await events.return();
  });

  it('never delivers the events of a rolled-back transaction', async () => {
    const [start = 0n] = await commitEvents('Start');
    const controller = new AbortController();
    const events = feed.events(start, controller.signal);
    // Set once the marker commits; no event has id -1.
    let marker = -1n;
    const reading = take(events, (all) => all.some((event) => event.id === marker));
    const writer = await connect();
    try {
      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO library.outbox (event_type, payload) VALUES ('Doomed', '{}'), ('Doomed', '{}')`,
      );
      await writer.query('ROLLBACK');
    } finally {
      await writer.end();
    }
    [marker = 0n] = await commitEvents('Marker');
    expect((await reading).map((event) => event.type)).toEqual(['Marker']);
    controller.abort();
    await events.return();
  });

  it(
    'loses and reorders nothing under concurrent writers, live or resumed after a kill',
    { timeout: 60_000 },
    async () => {
      const [start = 0n] = await commitEvents('Start');
      const fast = new AbortController();
      const fastEvents = feed.events(start, fast.signal);
      // Reading from now on (a generator subscribes on its first next()).
      let last = -1n;
      const fastReading = take(fastEvents, (all) => all.at(-1)?.id === last);
      // Writers of their own, so that their transactions overlap the feed's reads.
      const writersPool = new pg.Pool({ connectionString: database.url, max: 12 });
      const writers = Array.from({ length: 12 }, async (_, writer) => {
        const committed: bigint[] = [];
        for (let round = 0; round < 5; round += 1) {
          // Transactions overlap and commit in a different order than they began.
          const client = await writersPool.connect();
          try {
            await client.query('BEGIN');
            await sleep(Math.random() * 20);
            const { rows } = await client.query<{ id: string }>(
              `INSERT INTO library.outbox (event_type, payload)
               VALUES ('Concurrent', $1), ('Concurrent', $1) RETURNING id::text`,
              [JSON.stringify({ writer, round })],
            );
            await sleep(Math.random() * 20);
            if ((writer + round) % 4 === 0) {
              await client.query('ROLLBACK');
            } else {
              await client.query('COMMIT');
              committed.push(...rows.map((row) => BigInt(row.id)));
            }
          } finally {
            client.release();
          }
        }
        return committed;
      });
      const committed = (await Promise.all(writers)).flat().sort(byId);
      await writersPool.end();
      [last = 0n] = await commitEvents('End');
      const expected = [...committed, last];

      expect(ids(await fastReading)).toEqual(expected);
      fast.abort();
      await fastEvents.return();

      // A consumer killed half-way resumes from the last id it processed.
      const first = new AbortController();
      const firstEvents = feed.events(start, first.signal);
      const half = await take(firstEvents, (all) => all.length === Math.floor(expected.length / 2));
      first.abort();
      await firstEvents.return();
      const resumeFrom = half.at(-1)?.id ?? start;
      const second = new AbortController();
      const secondEvents = feed.events(resumeFrom, second.signal);
      const rest = await take(secondEvents, (all) => all.at(-1)?.id === last);
      second.abort();
      await secondEvents.return();
      expect([...ids(half), ...ids(rest)]).toEqual(expected);
    },
  );

  it('keeps delivering in order when a slow consumer outgrows its buffer', async () => {
    const [start = 0n] = await commitEvents('Start');
    const controller = new AbortController();
    const events = feed.events(start, controller.signal);
    // Subscribed and caught up; now a burst far larger than the buffer (5) arrives.
    const [marker] = await commitEvents('Marker');
    await take(events, (all) => all.at(-1)?.id === marker);
    const burst = (
      await Promise.all(Array.from({ length: 6 }, () => commitEvents('A', 'B', 'C')))
    ).flat();
    const ordered = [...burst].sort(byId);
    const received: OutboxEvent[] = [];
    for await (const event of events) {
      await sleep(5);
      received.push(event);
      if (event.id === ordered.at(-1)) break;
    }
    controller.abort();
    expect(ids(received)).toEqual(ordered);
  });

  it('shares one LISTEN connection among all subscribers, and gives it back after them', async () => {
    await expect.poll(listeners, { timeout: 5_000 }).toBe(0);
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const [start = 0n] = await commitEvents('Start');
    const streams = controllers.map((controller) => feed.events(start, controller.signal));
    const [marker] = await commitEvents('Marker');
    await Promise.all(streams.map((events) => take(events, (all) => all.at(-1)?.id === marker)));
    expect(await listeners()).toBe(1);
    for (const controller of controllers) controller.abort();
    await Promise.all(streams.map((events) => events.return()));
    await expect.poll(listeners, { timeout: 5_000 }).toBe(0);
  });

  it('still delivers when its LISTEN connection is killed: the poll covers, then it listens again', async () => {
    const [start = 0n] = await commitEvents('Start');
    const controller = new AbortController();
    const events = feed.events(start, controller.signal);
    const [first] = await commitEvents('BeforeKill');
    await take(events, (all) => all.at(-1)?.id === first);
    await pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query = $1`,
      [`LISTEN ${OUTBOX_CHANNEL}`],
    );
    const [afterKill] = await commitEvents('AfterKill');
    const received = await take(events, (all) => all.at(-1)?.id === afterKill);
    expect(ids(received)).toEqual([afterKill]);
    await expect.poll(listeners, { timeout: 5_000 }).toBe(1);
    controller.abort();
    await events.return();
    expect(logLines.join('')).toContain('the LISTEN connection failed');
  });
});

describe('the library outbox relay', () => {
  it('marks relayed events published, and purges only published events past the retention', async () => {
    const outbox = createLibraryOutbox({
      pool,
      logger,
      pollIntervalMs: 100,
      idlePollIntervalMs: 100,
      ...outboxSettingsOf({ CITADEL_LIBRARY_EVENT_RETENTION_DAYS: '7' }),
    });
    try {
      await outbox.start();
      const committed = await commitEvents('Old1', 'Old2', 'Old3', 'Recent');
      const [old1 = 0n, old2 = 0n, old3 = 0n, recent = 0n] = committed;
      await expect
        .poll(async () => {
          const { rows } = await pool.query<{ count: number }>(
            'SELECT count(*)::int AS count FROM library.outbox WHERE published_at IS NULL',
          );
          return rows[0]?.count;
        })
        .toBe(0);
      // Every earlier event, and the first three of these, were published eight days ago.
      await pool.query(
        `UPDATE library.outbox SET published_at = now() - interval '8 days' WHERE id <= $1`,
        [old3.toString()],
      );
      // An old event that is somehow still unpublished stops the purge before it.
      await pool.query('UPDATE library.outbox SET published_at = NULL WHERE id = $1', [
        old2.toString(),
      ]);
      await outbox.purge();
      const remaining = await pool.query<{ id: string }>(
        'SELECT id::text FROM library.outbox WHERE id >= $1 ORDER BY id',
        [old1.toString()],
      );
      expect(remaining.rows.map((row) => BigInt(row.id))).toEqual([old2, old3, recent]);
      const { rows } = await pool.query<{ purged_through: string }>(
        'SELECT purged_through::text FROM library.outbox_retention',
      );
      expect(BigInt(rows[0]?.purged_through ?? '0')).toBe(old1);

      // A consumer resuming before the purge mark has lost events: it is told so.
      const controller = new AbortController();
      const stale = outbox.events(old1 - 1n, controller.signal);
      await expect(stale.next()).rejects.toBeInstanceOf(OutboxEventsPurgedError);
      // From the mark, or from 0 ("all that is retained"), it reads on.
      const fromMark = outbox.events(old1, controller.signal);
      expect((await fromMark.next()).value).toMatchObject({ id: old2 });
      const fromZero = outbox.events(0n, controller.signal);
      expect((await fromZero.next()).value).toMatchObject({ id: old2 });
      controller.abort();
      await Promise.all([fromMark.return(), fromZero.return()]);
    } finally {
      await outbox.close();
    }
  });

  it('reads its retention from the host environment, and refuses a malformed one', () => {
    expect(outboxSettingsOf({})).toEqual({});
    expect(outboxSettingsOf({ CITADEL_LIBRARY_EVENT_RETENTION_DAYS: '1.5' })).toEqual({
      retentionMs: 36 * 60 * 60 * 1000,
    });
    expect(() => outboxSettingsOf({ CITADEL_LIBRARY_EVENT_RETENTION_DAYS: 'a week' })).toThrow(
      /CITADEL_LIBRARY_EVENT_RETENTION_DAYS/,
    );
  });
});
