import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SessionLifetime } from './session-lifetime.ts';

/**
 * A console session as stored. The key is the SHA-256 digest of the cookie's secret: whoever
 * reads the store (a backup, a replica, `redis-cli`) cannot sign in with what they read.
 */
export interface StoredConsoleSession {
  tokenDigest: string;
  accountId: string;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  /** The absolute end, fixed at sign-in; the idle timeout is counted from `lastSeenAt`. */
  expiresAt: Date;
  ip: string | undefined;
  userAgent: string | undefined;
}

/**
 * Where console sessions live: Redis when the platform has one (sessions then survive a
 * restart and are shared by replicas, and expire by TTL), PostgreSQL otherwise. The stores
 * keep what they are given; deciding whether a session is still live is the caller's job
 * (session-lifetime.ts), so both stores behave the same.
 */
export interface SessionStore {
  readonly kind: 'redis' | 'postgres';
  create(session: StoredConsoleSession): Promise<void>;
  get(tokenDigest: string): Promise<StoredConsoleSession | undefined>;
  /** Records activity; does nothing when the session is gone (never brings one back). */
  touch(tokenDigest: string, lastSeenAt: Date): Promise<void>;
  delete(session: Pick<StoredConsoleSession, 'tokenDigest' | 'accountId'>): Promise<void>;
  /** Ends every session of the account but `exceptDigest`; returns how many ended. */
  deleteForAccount(accountId: string, exceptDigest?: string): Promise<number>;
  /** Removes sessions past either deadline (Redis expires them itself); returns how many. */
  sweepExpired(now: Date): Promise<number>;
}

const storedSessionSchema = z.object({
  tokenDigest: z.string(),
  accountId: z.string(),
  csrfToken: z.string(),
  createdAt: z.coerce.date(),
  lastSeenAt: z.coerce.date(),
  expiresAt: z.coerce.date(),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface RedisSessionStoreOptions {
  redis: Redis;
  /** Namespaces the keys, e.g. the platform's instance id, as the rate limiter does. */
  keyPrefix: string;
  lifetime: SessionLifetime;
}

/**
 * Sessions in Redis: one JSON value per session under `<prefix>:session:<digest>` with a TTL
 * of whichever deadline comes first, and a set `<prefix>:account:<id>` of the account's
 * digests so "sign out everywhere" finds them all.
 */
export function createRedisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const { redis, lifetime } = options;
  const prefix = `citadel:console-session:${options.keyPrefix}`;
  const sessionKey = (digest: string) => `${prefix}:session:${digest}`;
  const accountKey = (accountId: string) => `${prefix}:account:${accountId}`;
  /** Milliseconds until the earlier deadline, at least 1 (Redis refuses 0). */
  const ttlMs = (session: Pick<StoredConsoleSession, 'expiresAt'>, lastSeenAt: Date) =>
    Math.max(
      1,
      Math.min(lastSeenAt.getTime() + lifetime.idleTimeoutMs, session.expiresAt.getTime()) -
        Date.now(),
    );

  async function get(tokenDigest: string): Promise<StoredConsoleSession | undefined> {
    const value = await redis.get(sessionKey(tokenDigest));
    if (value === null) return undefined;
    const parsed = storedSessionSchema.safeParse(parseJson(value));
    // Unreadable (written by another version, or damaged): no session, not a failed request.
    if (!parsed.success) return undefined;
    return { ...parsed.data, ip: parsed.data.ip, userAgent: parsed.data.userAgent };
  }

  return {
    kind: 'redis',

    async create(session) {
      await redis
        .multi()
        .set(
          sessionKey(session.tokenDigest),
          JSON.stringify(session),
          'PX',
          ttlMs(session, session.lastSeenAt),
        )
        .sadd(accountKey(session.accountId), session.tokenDigest)
        // Every session ends within maxAge of its creation, so the newest one bounds the set.
        .pexpire(accountKey(session.accountId), lifetime.maxAgeMs)
        .exec();
    },

    get,

    async touch(tokenDigest, lastSeenAt) {
      const current = await get(tokenDigest);
      if (!current) return;
      const updated = { ...current, lastSeenAt };
      // XX: only while the key exists, so a logout racing this write stays a logout.
      await redis.set(
        sessionKey(tokenDigest),
        JSON.stringify(updated),
        'PX',
        ttlMs(current, lastSeenAt),
        'XX',
      );
    },

    async delete(session) {
      await redis
        .multi()
        .del(sessionKey(session.tokenDigest))
        .srem(accountKey(session.accountId), session.tokenDigest)
        .exec();
    },

    async deleteForAccount(accountId, exceptDigest) {
      const digests = (await redis.smembers(accountKey(accountId))).filter(
        (digest) => digest !== exceptDigest,
      );
      if (digests.length === 0) return 0;
      const results = await redis
        .multi()
        .del(...digests.map(sessionKey))
        .srem(accountKey(accountId), ...digests)
        .exec();
      const deleted = results?.[0]?.[1];
      return typeof deleted === 'number' ? deleted : 0;
    },

    sweepExpired: () => Promise.resolve(0),
  };
}

export interface PostgresSessionStoreOptions {
  prisma: PrismaClient;
  lifetime: SessionLifetime;
}

/** Sessions as rows of `console_sessions`; expired rows are removed by `sweepExpired`. */
export function createPostgresSessionStore(options: PostgresSessionStoreOptions): SessionStore {
  const { prisma, lifetime } = options;
  return {
    kind: 'postgres',

    async create(session) {
      await prisma.consoleSession.create({
        data: {
          tokenDigest: session.tokenDigest,
          accountId: session.accountId,
          csrfToken: session.csrfToken,
          createdAt: session.createdAt,
          lastSeenAt: session.lastSeenAt,
          expiresAt: session.expiresAt,
          ip: session.ip ?? null,
          userAgent: session.userAgent ?? null,
        },
      });
    },

    async get(tokenDigest) {
      const row = await prisma.consoleSession.findUnique({ where: { tokenDigest } });
      if (!row) return undefined;
      return { ...row, ip: row.ip ?? undefined, userAgent: row.userAgent ?? undefined };
    },

    async touch(tokenDigest, lastSeenAt) {
      await prisma.consoleSession.updateMany({ where: { tokenDigest }, data: { lastSeenAt } });
    },

    async delete(session) {
      await prisma.consoleSession.deleteMany({
        where: { tokenDigest: session.tokenDigest, accountId: session.accountId },
      });
    },

    async deleteForAccount(accountId, exceptDigest) {
      const result = await prisma.consoleSession.deleteMany({
        where: {
          accountId,
          ...(exceptDigest === undefined ? {} : { tokenDigest: { not: exceptDigest } }),
        },
      });
      return result.count;
    },

    async sweepExpired(now) {
      const idleSince = new Date(now.getTime() - lifetime.idleTimeoutMs);
      const result = await prisma.consoleSession.deleteMany({
        where: { OR: [{ expiresAt: { lte: now } }, { lastSeenAt: { lte: idleSince } }] },
      });
      return result.count;
    },
  };
}
