import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { digestSecret } from '../domain/secret-digest.ts';
import type { AccountRecord } from './account-repository.ts';
import { readConsoleCookie } from './console-cookie.ts';
import type { ConsoleSession, ConsoleSessions } from './console-session.ts';
import { csrfTokenMatches, originAllowed } from './csrf.ts';
import {
  isSessionLive,
  sessionDeadline,
  shouldRecordActivity,
  type SessionLifetime,
} from './session-lifetime.ts';
import type { SessionStore, StoredConsoleSession } from './session-store.ts';

/** 256 bits, base64url: what the cookie and the CSRF token carry. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export interface ConsoleSessionServiceDeps {
  store: SessionStore;
  /** The account behind a session; sessions of unknown or disabled accounts resolve to none. */
  findAccount(accountId: string): Promise<AccountRecord | undefined>;
  lifetime: SessionLifetime;
  /** CITADEL_PUBLIC_URL: requests' `Origin` must be its origin (the Host's when undefined). */
  publicUrl: string | undefined;
  now?: () => Date;
}

/** Where a sign-in comes from, kept with the session for the account's own review. */
export interface SessionOrigin {
  ip: string | undefined;
  userAgent: string | undefined;
}

/** A new session: the secret goes into the cookie once and is never stored. */
export interface StartedSession {
  secret: string;
  session: ConsoleSession;
}

/**
 * Console sessions: started at login, resolved from the cookie on every request, ended by
 * logout or by a password change. Implements {@link ConsoleSessions} for other modules.
 */
export interface ConsoleSessionService extends ConsoleSessions {
  start(account: AccountRecord, origin: SessionOrigin): Promise<StartedSession>;
  /** The live session the secret opens, recording activity at most once per interval. */
  resolveSecret(secret: string | undefined): Promise<ConsoleSession | undefined>;
  end(session: ConsoleSession): Promise<void>;
  /** Ends every session of the account, but `keep` when given; returns how many ended. */
  endAll(accountId: string, keep?: ConsoleSession): Promise<number>;
  /** Removes expired sessions from a store that does not expire them itself. */
  sweep(): Promise<number>;
}

function toConsoleSession(
  stored: StoredConsoleSession,
  account: AccountRecord,
  lifetime: SessionLifetime,
): ConsoleSession {
  return {
    sessionId: stored.tokenDigest,
    accountId: account.id,
    email: account.email,
    displayName: account.displayName,
    csrfToken: stored.csrfToken,
    expiresAt: sessionDeadline(stored, lifetime),
  };
}

export function createConsoleSessionService(
  deps: ConsoleSessionServiceDeps,
): ConsoleSessionService {
  const { store, lifetime } = deps;
  const now = deps.now ?? (() => new Date());

  async function liveAccount(accountId: string): Promise<AccountRecord | undefined> {
    const account = await deps.findAccount(accountId);
    return account && account.disabledAt === undefined ? account : undefined;
  }

  async function resolveSecret(secret: string | undefined): Promise<ConsoleSession | undefined> {
    if (secret === undefined || !SECRET_PATTERN.test(secret)) return undefined;
    const stored = await store.get(digestSecret(secret));
    const at = now();
    if (!stored || !isSessionLive(stored, at, lifetime)) return undefined;
    const account = await liveAccount(stored.accountId);
    if (!account) return undefined;
    if (shouldRecordActivity(stored, at, lifetime)) {
      await store.touch(stored.tokenDigest, at);
      stored.lastSeenAt = at;
    }
    return toConsoleSession(stored, account, lifetime);
  }

  return {
    async start(account, origin) {
      const secret = newSecret();
      const at = now();
      const stored: StoredConsoleSession = {
        tokenDigest: digestSecret(secret),
        accountId: account.id,
        csrfToken: newSecret(),
        createdAt: at,
        lastSeenAt: at,
        expiresAt: new Date(at.getTime() + lifetime.maxAgeMs),
        ip: origin.ip,
        userAgent: origin.userAgent?.slice(0, 512),
      };
      await store.create(stored);
      return { secret, session: toConsoleSession(stored, account, lifetime) };
    },

    resolveSecret,
    resolve: (request: Request) => resolveSecret(readConsoleCookie(request)),

    checkCsrf: (request, session) =>
      originAllowed(request, deps.publicUrl) && csrfTokenMatches(request, session.csrfToken),

    async end(session) {
      await store.delete({ tokenDigest: session.sessionId, accountId: session.accountId });
    },

    endAll: (accountId, keep) => store.deleteForAccount(accountId, keep?.sessionId),

    sweep: () => store.sweepExpired(now()),
  };
}
