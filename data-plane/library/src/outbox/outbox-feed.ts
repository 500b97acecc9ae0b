import type { HostLogger } from '@citadel/data-plane-runtime';
import type { Pool, PoolClient } from 'pg';
import { latestOutboxEventId, readOutboxPage, type OutboxEvent } from './outbox-event.ts';
import { OUTBOX_CHANNEL } from './outbox-notifications.ts';

export interface OutboxFeedOptions {
  pool: Pool;
  logger: HostLogger;
  /**
   * Called once every event up to `throughId` has been handed to the subscribers of the
   * moment (none, possibly): the relay marks them published. A rejection is retried on the
   * next read.
   */
  onRelayed?: (throughId: bigint) => Promise<void>;
  /** The safety net under notifications: the table is read this often while anyone listens. Default 5 s. */
  pollIntervalMs?: number;
  /** …and this often while nobody does, for the relay alone. Default 60 s. */
  idlePollIntervalMs?: number;
  /** Events read per query. Default 500. */
  batchSize?: number;
  /** Events buffered for a slow subscriber before it goes back to reading the table. Default 1000. */
  bufferLimit?: number;
  /** How long the LISTEN connection outlives the last subscriber. Default 30 s. */
  listenerLingerMs?: number;
}

/**
 * The committed events of `library.outbox` for any number of concurrent consumers, on one
 * LISTEN connection (taken from the tenant's pool while anyone subscribes) and one reader.
 */
export interface OutboxFeed {
  /**
   * The events after `afterId` in id order, replayed from the table, then new ones as they
   * commit, until `signal` aborts or the feed closes. Throws `OutboxEventsPurgedError` when
   * events after `afterId` were purged (0 asks for every event still retained).
   */
  events(afterId: bigint, signal: AbortSignal): AsyncGenerator<OutboxEvent, void, undefined>;
  /** Reads new events now; notifications and the poll timer call this on their own. */
  poll(): Promise<void>;
  /** Ends every subscription, stops the timers and gives the LISTEN connection back. */
  close(): Promise<void>;
}

/** A consumer asked to resume from an event older than the retention kept. */
export class OutboxEventsPurgedError extends Error {
  readonly afterId: bigint;
  readonly purgedThrough: bigint;
  constructor(afterId: bigint, purgedThrough: bigint) {
    super(
      `Events after ${afterId} were purged past the retention (through ${purgedThrough}); ` +
        'resume from 0 for every event still retained.',
    );
    this.name = 'OutboxEventsPurgedError';
    this.afterId = afterId;
    this.purgedThrough = purgedThrough;
  }
}

/** One consumer's buffer of live events, filled by the feed's single reader. */
interface Subscriber {
  buffer: OutboxEvent[];
  /** The buffer outgrew its limit and was dropped: the consumer reads the table again. */
  overflowed: boolean;
  doorbell: Doorbell;
}

/** Wakes one waiting consumer; a ring before the wait is not lost. */
interface Doorbell {
  ring(): void;
  wait(): Promise<void>;
}

function createDoorbell(): Doorbell {
  let rung = false;
  let waiter: (() => void) | undefined;
  return {
    ring() {
      rung = true;
      waiter?.();
    },
    async wait() {
      if (!rung) await new Promise<void>((resolve) => (waiter = resolve));
      rung = false;
      waiter = undefined;
    },
  };
}

/**
 * Why this is lossless: ids become visible in commit order (the outbox trigger), the reader
 * hands each event to the subscribers registered when it hands it over, and a subscriber
 * registers before it replays the table. An event is therefore either committed before the
 * replay reads (and replayed) or read by the reader after the registration (and buffered);
 * the subscriber drops what it already replayed, by id.
 */
export function createOutboxFeed(options: OutboxFeedOptions): OutboxFeed {
  const { pool, logger } = options;
  const settings = {
    pollIntervalMs: options.pollIntervalMs ?? 5_000,
    idlePollIntervalMs: options.idlePollIntervalMs ?? 60_000,
    batchSize: options.batchSize ?? 500,
    bufferLimit: options.bufferLimit ?? 1_000,
    listenerLingerMs: options.listenerLingerMs ?? 30_000,
  };
  const subscribers = new Set<Subscriber>();
  const listener = createListener(pool, logger, () => void poll());
  /** The highest id handed to the subscribers; undefined until the feed starts. */
  let head: bigint | undefined;
  let relayedThrough = -1n;
  let starting: Promise<bigint> | undefined;
  let reading: Promise<void> | undefined;
  let readAgain = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  let closed = false;
  // Read through functions: these change while a read awaits, which narrowing cannot see.
  const isClosed = () => closed;
  const nobodySubscribes = () => subscribers.size === 0;

  const deliver = (events: readonly OutboxEvent[]) => {
    for (const subscriber of subscribers) {
      if (subscriber.overflowed) continue;
      if (subscriber.buffer.length + events.length > settings.bufferLimit) {
        subscriber.overflowed = true;
        subscriber.buffer = [];
      } else {
        subscriber.buffer.push(...events);
      }
      subscriber.doorbell.ring();
    }
  };

  /** Moves the head past every committed event, handing them to the subscribers. */
  const readNew = async (from: bigint): Promise<bigint> => {
    if (nobodySubscribes()) {
      const latest = await latestOutboxEventId(pool);
      // Nobody to hand events to: skip them, unless someone subscribed meanwhile.
      if (nobodySubscribes()) return latest > from ? latest : from;
    }
    let position = from;
    for (;;) {
      const { events } = await readOutboxPage(pool, position, settings.batchSize);
      if (isClosed()) return position;
      deliver(events);
      position = events.at(-1)?.id ?? position;
      if (events.length < settings.batchSize) return position;
    }
  };

  const relay = async (through: bigint) => {
    if (!options.onRelayed || through <= relayedThrough) return;
    await options.onRelayed(through);
    relayedThrough = through;
  };

  const readOnce = async () => {
    head = await readNew(head ?? (await start()));
    await relay(head);
  };

  const shouldReadAgain = () => readAgain && !closed;

  /** One reader at a time; a call while it reads makes it read once more. */
  function poll(): Promise<void> {
    if (closed) return Promise.resolve();
    if (reading) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      do {
        readAgain = false;
        await readOnce().catch((error: unknown) => {
          logger.warn(
            { error },
            'library outbox: reading new events failed; retrying on the next poll',
          );
        });
      } while (shouldReadAgain());
    })().finally(() => {
      reading = undefined;
    });
    return reading;
  }

  const schedulePoll = () => {
    clearTimeout(pollTimer);
    if (closed) return;
    const delay = subscribers.size > 0 ? settings.pollIntervalMs : settings.idlePollIntervalMs;
    pollTimer = setTimeout(() => {
      if (subscribers.size > 0) void listener.ensure();
      void poll().finally(schedulePoll);
    }, delay);
    pollTimer.unref();
  };

  /** The head at the start: events before it are for replays only. */
  function start(): Promise<bigint> {
    starting ??= latestOutboxEventId(pool).then(
      (latest) => {
        head ??= latest;
        schedulePoll();
        return head;
      },
      (error: unknown) => {
        starting = undefined;
        throw error;
      },
    );
    return starting;
  }

  const subscribe = (): Subscriber => {
    const subscriber: Subscriber = { buffer: [], overflowed: false, doorbell: createDoorbell() };
    clearTimeout(lingerTimer);
    if (subscribers.size === 0) {
      subscribers.add(subscriber);
      schedulePoll();
    } else {
      subscribers.add(subscriber);
    }
    return subscriber;
  };

  const unsubscribe = (subscriber: Subscriber) => {
    subscribers.delete(subscriber);
    if (subscribers.size > 0 || closed) return;
    lingerTimer = setTimeout(() => {
      if (subscribers.size === 0) void listener.release();
    }, settings.listenerLingerMs);
    lingerTimer.unref();
  };

  /** Replays the table from `position` until it is read to the end; answers the new position. */
  async function* replay(
    subscriber: Subscriber,
    from: bigint,
    signal: AbortSignal,
  ): AsyncGenerator<OutboxEvent, bigint, undefined> {
    subscriber.overflowed = false;
    subscriber.buffer = [];
    let position = from;
    for (;;) {
      const page = await readOutboxPage(pool, position, settings.batchSize);
      if (position > 0n && page.purgedThrough > position) {
        throw new OutboxEventsPurgedError(position, page.purgedThrough);
      }
      for (const event of page.events) {
        if (signal.aborted || isClosed()) return position;
        yield event;
        position = event.id;
      }
      if (page.events.length < settings.batchSize) return position;
    }
  }

  /** Hands over buffered events past `position` until the buffer overflows or the stream ends. */
  async function* live(
    subscriber: Subscriber,
    from: bigint,
    signal: AbortSignal,
  ): AsyncGenerator<OutboxEvent, bigint, undefined> {
    let position = from;
    while (!subscriber.overflowed && !signal.aborted && !isClosed()) {
      const event = subscriber.buffer.shift();
      if (event === undefined) {
        await subscriber.doorbell.wait();
      } else if (event.id > position) {
        yield event;
        position = event.id;
      }
    }
    return position;
  }

  async function* events(afterId: bigint, signal: AbortSignal) {
    if (closed) return;
    await start();
    await listener.ensure();
    const subscriber = subscribe();
    const wake = () => subscriber.doorbell.ring();
    signal.addEventListener('abort', wake);
    try {
      // Anything committed while this subscription was being set up.
      void poll();
      let position = afterId;
      while (!signal.aborted && !isClosed()) {
        position = yield* replay(subscriber, position, signal);
        position = yield* live(subscriber, position, signal);
      }
    } finally {
      signal.removeEventListener('abort', wake);
      unsubscribe(subscriber);
    }
  }

  return {
    events,
    poll,
    async close() {
      closed = true;
      clearTimeout(pollTimer);
      clearTimeout(lingerTimer);
      for (const subscriber of subscribers) subscriber.doorbell.ring();
      await reading;
      await listener.release();
    },
  };
}

/** The one LISTEN connection of a feed, taken from the pool while the feed has subscribers. */
interface OutboxListener {
  /** Listens, if it does not already; a failure is logged (the poll still delivers). */
  ensure(): Promise<void>;
  release(): Promise<void>;
}

function createListener(pool: Pool, logger: HostLogger, onNotify: () => void): OutboxListener {
  let client: PoolClient | undefined;
  let connecting: Promise<void> | undefined;
  let wanted = false;
  const isWanted = () => wanted;

  const released = new WeakSet<PoolClient>();

  const drop = (lost: PoolClient, error?: Error) => {
    if (client === lost) client = undefined;
    if (released.has(lost)) return;
    released.add(lost);
    lost.removeAllListeners('notification');
    // A connection in LISTEN state is never handed to another query: destroy it.
    lost.release(error ?? true);
  };

  const connect = async () => {
    const connected = await pool.connect();
    connected.on('error', (error: Error) => {
      logger.warn(
        { error },
        'library outbox: the LISTEN connection failed; polling until it is back',
      );
      drop(connected, error);
    });
    connected.on('notification', onNotify);
    try {
      await connected.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (error) {
      drop(connected, error as Error);
      throw error;
    }
    // Released while it connected: nobody wants it any more.
    if (isWanted()) client = connected;
    else drop(connected);
  };

  return {
    async ensure() {
      wanted = true;
      if (client) return;
      connecting ??= connect().finally(() => {
        connecting = undefined;
      });
      await connecting.catch((error: unknown) => {
        logger.warn({ error }, 'library outbox: could not LISTEN; polling instead');
      });
    },
    async release() {
      wanted = false;
      await connecting?.catch(() => undefined);
      if (client) drop(client);
    },
  };
}
