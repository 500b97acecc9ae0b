import type { HostLogger } from '@citadel/data-plane-runtime';
import type { Pool } from 'pg';
import type { OutboxEvent } from './outbox-event.ts';
import { createOutboxFeed, type OutboxFeedOptions } from './outbox-feed.ts';
import { ensureOutboxNotifications } from './outbox-notifications.ts';
import { createOutboxRelay, DEFAULT_OUTBOX_RETENTION_MS } from './outbox-relay.ts';

/** The host environment variable that sets the retention of published events, in days. */
export const EVENT_RETENTION_VARIABLE = 'CITADEL_LIBRARY_EVENT_RETENTION_DAYS';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface LibraryOutboxOptions extends Pick<
  OutboxFeedOptions,
  'pollIntervalMs' | 'idlePollIntervalMs' | 'batchSize' | 'bufferLimit' | 'listenerLingerMs'
> {
  pool: Pool;
  logger: HostLogger;
  /** Published events older than this are purged. Default 7 days. */
  retentionMs?: number;
  /** How often the purge runs. Default hourly. */
  purgeIntervalMs?: number;
}

/**
 * The library's events for its consumers: the outbox relay (marks events published once the
 * live feed has them, purges published events past the retention) and the feed that
 * `StreamEvents` reads. One per library service instance.
 */
export interface LibraryOutbox {
  /**
   * Installs the outbox triggers and starts relaying. Idempotent; needs the library's schema
   * (`library.outbox`), so call it once the library is open.
   */
  start(): Promise<void>;
  /** See `OutboxFeed.events`; starts the outbox first if need be. */
  events(afterId: bigint, signal: AbortSignal): AsyncGenerator<OutboxEvent, void, undefined>;
  /** Purges now (the hourly timer does it too); answers how many events it deleted. */
  purge(): Promise<number>;
  close(): Promise<void>;
}

/** The outbox settings a host's environment gives the library; throws on a malformed value. */
export function outboxSettingsOf(
  environment: Readonly<Record<string, string | undefined>>,
): Pick<LibraryOutboxOptions, 'retentionMs'> {
  const text = environment[EVENT_RETENTION_VARIABLE]?.trim() ?? '';
  if (text === '') return {};
  const days = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || days <= 0 || days > 3_650) {
    throw new Error(`${EVENT_RETENTION_VARIABLE} must be a number of days from 0 to 3650`);
  }
  return { retentionMs: Math.round(days * DAY_MS) };
}

export function createLibraryOutbox(options: LibraryOutboxOptions): LibraryOutbox {
  const { pool, logger } = options;
  const relay = createOutboxRelay({
    pool,
    retentionMs: options.retentionMs ?? DEFAULT_OUTBOX_RETENTION_MS,
  });
  const feed = createOutboxFeed({
    ...options,
    onRelayed: async (through) => {
      await relay.markPublished(through);
    },
  });
  const purgeIntervalMs = options.purgeIntervalMs ?? 60 * 60 * 1000;
  let started: Promise<void> | undefined;
  let purgeTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const purge = async () => {
    const deleted = await relay.purge();
    if (deleted > 0) logger.info({ deleted }, 'library outbox: purged published events');
    return deleted;
  };

  /** The first purge right after the start: a host may not live an hour. */
  const schedulePurge = (delay: number) => {
    if (closed) return;
    purgeTimer = setTimeout(() => {
      purge()
        .catch((error: unknown) => {
          logger.warn({ error }, 'library outbox: purge failed; retrying on the next run');
        })
        .finally(() => schedulePurge(purgeIntervalMs));
    }, delay);
    purgeTimer.unref();
  };

  const start = () => {
    started ??= ensureOutboxNotifications(pool).then(
      () => {
        void feed.poll();
        schedulePurge(0);
      },
      (error: unknown) => {
        started = undefined;
        throw error;
      },
    );
    return started;
  };

  return {
    start,
    async *events(afterId, signal) {
      await start();
      yield* feed.events(afterId, signal);
    },
    async purge() {
      await start();
      return purge();
    },
    async close() {
      closed = true;
      clearTimeout(purgeTimer);
      await feed.close();
    },
  };
}
