import { randomBytes, randomUUID } from 'node:crypto';
import { createControlPlaneMigrations } from '@citadel/postgres';
import { startTestPostgres, type TestPostgres } from '@citadel/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleSessionService } from '../src/accounts/console-session.service.ts';
import { createPrismaAccountRepository } from '../src/accounts/prisma-account-repository.ts';
import type { SessionLifetime } from '../src/accounts/session-lifetime.ts';
import {
  createPostgresSessionStore,
  createRedisSessionStore,
  type SessionStore,
  type StoredConsoleSession,
} from '../src/accounts/session-store.ts';
import { createPrismaClient, type PrismaClient } from '../src/adapters/prisma-client.ts';

const MINUTE = 60_000;
const LIFETIME: SessionLifetime = {
  idleTimeoutMs: 60 * MINUTE,
  maxAgeMs: 24 * 60 * MINUTE,
  touchIntervalMs: MINUTE,
};

let postgres: TestPostgres;
let prisma: PrismaClient;
let redis: Redis | undefined;
/** Two accounts: what one does to its sessions must never touch the other's. */
const accountIds: [string, string] = [randomUUID(), randomUUID()];

beforeAll(async () => {
  postgres = await startTestPostgres();
  const databaseUrl = await postgres.createDatabase('sessions');
  await createControlPlaneMigrations(databaseUrl).deploy();
  prisma = createPrismaClient(databaseUrl);
  for (const [index, id] of accountIds.entries()) {
    await prisma.account.create({
      data: {
        id,
        email: `owner${index}@example.com`,
        emailKey: `owner${index}@example.com`,
        displayName: `Owner ${index}`,
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y',
        emailVerifiedAt: new Date(),
      },
    });
  }
  if (process.env.REDIS_URL) redis = new Redis(process.env.REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await prisma.$disconnect();
  await postgres.stop();
});

function storedSession(
  accountId: string,
  overrides: Partial<StoredConsoleSession> = {},
): StoredConsoleSession {
  const now = new Date();
  return {
    tokenDigest: randomBytes(32).toString('hex'),
    accountId,
    csrfToken: randomBytes(32).toString('base64url'),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + LIFETIME.maxAgeMs),
    ip: '10.1.2.3',
    userAgent: 'vitest',
    ...overrides,
  };
}

/** The contract both stores keep. */
function describeStore(name: string, makeStore: () => SessionStore) {
  describe(`${name} session store`, () => {
    it('stores and returns a session by its digest', async () => {
      const store = makeStore();
      const session = storedSession(accountIds[0]);
      await store.create(session);
      expect(await store.get(session.tokenDigest)).toEqual(session);
      expect(await store.get(randomBytes(32).toString('hex'))).toBeUndefined();
    });

    it('records activity, and never brings a deleted session back', async () => {
      const store = makeStore();
      const session = storedSession(accountIds[0]);
      await store.create(session);
      const later = new Date(session.lastSeenAt.getTime() + 5 * MINUTE);
      await store.touch(session.tokenDigest, later);
      expect((await store.get(session.tokenDigest))?.lastSeenAt).toEqual(later);

      await store.delete(session);
      await store.touch(session.tokenDigest, new Date());
      expect(await store.get(session.tokenDigest)).toBeUndefined();
    });

    it("ends an account's sessions but the one kept, and no other account's", async () => {
      const store = makeStore();
      const kept = storedSession(accountIds[0]);
      const ended = [storedSession(accountIds[0]), storedSession(accountIds[0])];
      const otherAccount = storedSession(accountIds[1]);
      for (const session of [kept, ...ended, otherAccount]) await store.create(session);

      expect(await store.deleteForAccount(accountIds[0], kept.tokenDigest)).toBeGreaterThanOrEqual(
        2,
      );
      expect(await store.get(kept.tokenDigest)).toBeDefined();
      for (const session of ended) expect(await store.get(session.tokenDigest)).toBeUndefined();
      expect(await store.get(otherAccount.tokenDigest)).toEqual(otherAccount);

      await store.deleteForAccount(accountIds[0]);
      expect(await store.get(kept.tokenDigest)).toBeUndefined();
      expect(await store.get(otherAccount.tokenDigest)).toEqual(otherAccount);
    });
  });
}

describeStore('PostgreSQL', () => createPostgresSessionStore({ prisma, lifetime: LIFETIME }));

describe('PostgreSQL session store sweeping', () => {
  it('removes sessions past their idle or absolute deadline, and only those', async () => {
    const store = createPostgresSessionStore({ prisma, lifetime: LIFETIME });
    const now = new Date();
    const live = storedSession(accountIds[1]);
    const idle = storedSession(accountIds[1], {
      lastSeenAt: new Date(now.getTime() - LIFETIME.idleTimeoutMs - MINUTE),
    });
    const old = storedSession(accountIds[1], { expiresAt: new Date(now.getTime() - MINUTE) });
    for (const session of [live, idle, old]) await store.create(session);

    expect(await store.sweepExpired(now)).toBeGreaterThanOrEqual(2);
    expect(await store.get(live.tokenDigest)).toBeDefined();
    expect(await store.get(idle.tokenDigest)).toBeUndefined();
    expect(await store.get(old.tokenDigest)).toBeUndefined();
  });
});

describe.skipIf(!process.env.REDIS_URL)('Redis session store (REDIS_URL)', () => {
  const prefix = `test-${randomUUID()}`;
  const store = () => {
    if (!redis) throw new Error('REDIS_URL is set but no client was made');
    return createRedisSessionStore({ redis, keyPrefix: prefix, lifetime: LIFETIME });
  };

  describeStore('Redis', store);

  afterAll(async () => {
    const keys = (await redis?.keys(`citadel:console-session:${prefix}:*`)) ?? [];
    if (keys.length > 0) await redis?.del(...keys);
  });

  it('keys sessions by digest under the instance prefix, with a TTL of the first deadline', async () => {
    const session = storedSession(accountIds[0], {
      // The absolute end comes before the idle one: the TTL follows it.
      expiresAt: new Date(Date.now() + 10 * MINUTE),
    });
    await store().create(session);
    const key = `citadel:console-session:${prefix}:session:${session.tokenDigest}`;
    const ttl = (await redis?.pttl(key)) ?? -1;
    expect(ttl).toBeGreaterThan(9 * MINUTE);
    expect(ttl).toBeLessThanOrEqual(10 * MINUTE);
    expect(
      await redis?.sismember(
        `citadel:console-session:${prefix}:account:${accountIds[0]}`,
        session.tokenDigest,
      ),
    ).toBe(1);
  });
});

describe('console session service', () => {
  const repository = () => createPrismaAccountRepository(prisma);
  let clock = new Date();
  const service = (store: SessionStore) =>
    createConsoleSessionService({
      store,
      lifetime: LIFETIME,
      publicUrl: undefined,
      findAccount: (accountId) => repository().findById(accountId),
      now: () => clock,
    });
  const account = async (id: string) => {
    const found = await repository().findById(id);
    if (!found) throw new Error('account missing');
    return found;
  };

  it('slides the idle timeout with activity, recording it at most once a minute', async () => {
    const store = createPostgresSessionStore({ prisma, lifetime: LIFETIME });
    const sessions = service(store);
    clock = new Date();
    const { secret, session } = await sessions.start(await account(accountIds[0]), {
      ip: '10.0.0.1',
      userAgent: 'vitest',
    });
    expect(session.expiresAt.getTime()).toBe(clock.getTime() + LIFETIME.idleTimeoutMs);
    expect(await store.get(session.sessionId)).toBeDefined();
    // Only the digest is stored, never the secret.
    expect(session.sessionId).not.toContain(secret);
    expect(await store.get(secret)).toBeUndefined();

    const started = clock.getTime();
    clock = new Date(started + 30_000);
    await sessions.resolveSecret(secret);
    expect((await store.get(session.sessionId))?.lastSeenAt.getTime()).toBe(started);

    clock = new Date(started + 50 * MINUTE);
    const resolved = await sessions.resolveSecret(secret);
    expect((await store.get(session.sessionId))?.lastSeenAt.getTime()).toBe(clock.getTime());
    expect(resolved?.expiresAt.getTime()).toBe(clock.getTime() + LIFETIME.idleTimeoutMs);

    // Idle for longer than the timeout: gone.
    clock = new Date(clock.getTime() + LIFETIME.idleTimeoutMs + 1);
    expect(await sessions.resolveSecret(secret)).toBeUndefined();
  });

  it('ends a busy session at its absolute lifetime', async () => {
    const store = createPostgresSessionStore({ prisma, lifetime: LIFETIME });
    const sessions = service(store);
    clock = new Date();
    const started = clock.getTime();
    const { secret } = await sessions.start(await account(accountIds[0]), {
      ip: undefined,
      userAgent: undefined,
    });
    for (let elapsed = 0; elapsed < LIFETIME.maxAgeMs; elapsed += 30 * MINUTE) {
      clock = new Date(started + elapsed);
      expect(await sessions.resolveSecret(secret)).toBeDefined();
    }
    clock = new Date(started + LIFETIME.maxAgeMs);
    expect(await sessions.resolveSecret(secret)).toBeUndefined();
  });

  it('resolves no session for a disabled account, nor for malformed secrets', async () => {
    const store = createPostgresSessionStore({ prisma, lifetime: LIFETIME });
    const sessions = service(store);
    clock = new Date();
    const { secret } = await sessions.start(await account(accountIds[1]), {
      ip: undefined,
      userAgent: undefined,
    });
    expect(await sessions.resolveSecret(secret)).toBeDefined();
    await prisma.account.update({ where: { id: accountIds[1] }, data: { disabledAt: new Date() } });
    try {
      expect(await sessions.resolveSecret(secret)).toBeUndefined();
    } finally {
      await prisma.account.update({ where: { id: accountIds[1] }, data: { disabledAt: null } });
    }
    for (const bad of [undefined, '', 'short', `${secret}x`, 'é'.repeat(43)]) {
      expect(await sessions.resolveSecret(bad)).toBeUndefined();
    }
  });
});
