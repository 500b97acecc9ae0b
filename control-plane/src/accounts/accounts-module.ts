import type { Redis } from 'ioredis';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { TenantService } from '../domain/tenant.service.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PlatformModuleRoutes } from '../http/platform-app.ts';
import type { Logger } from '../logger.ts';
import { createAccountRouter, type LoginLimiter } from './account-routes.ts';
import {
  createAccountService,
  type AccountService,
  type AccountServiceDeps,
} from './account.service.ts';
import type { ConsoleSessions } from './console-session.ts';
import { createConsoleSessionService } from './console-session.service.ts';
import { createMailer, type Mailer } from './mailer.ts';
import { createPasswordHasher, type PasswordHasher } from './password-hasher.ts';
import { createPrismaAccountRepository } from './prisma-account-repository.ts';
import {
  requireConsoleSessionWith,
  type RequireConsoleSession,
} from './require-console-session.ts';
import { DEFAULT_SESSION_LIFETIME, type SessionLifetime } from './session-lifetime.ts';
import { createPostgresSessionStore, createRedisSessionStore } from './session-store.ts';

/** How often expired PostgreSQL sessions are deleted. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export interface AccountsModuleDeps {
  prisma: PrismaClient;
  /** When set, sessions live in Redis; in PostgreSQL otherwise. */
  redis?: Redis | undefined;
  /** Namespaces the Redis keys: replicas of one platform share sessions, others do not. */
  instanceId: string;
  logger: Logger;
  /** The platform's data directory (the mail outbox lives under it). */
  dataDir: string;
  settings: {
    smtpUrl: string | undefined;
    mailFrom: string;
    sessionIdleMinutes: number;
    sessionMaxAgeHours: number;
  };
  /** CITADEL_PUBLIC_URL as configured: the origin CSRF checks expect, and cookie security. */
  publicUrl: string | undefined;
  /** The base of links in mail: the public URL, or the bound local address without one. */
  linkBaseUrl: () => string;
  tenants: Pick<TenantService, 'prepareSpec' | 'requestReconcile'>;
  audit?: AuditRecorder | undefined;
  limitLogin?: LoginLimiter | undefined;
  /** Records sign-in attempts (see AccountServiceDeps.onSignIn). */
  onSignIn?: AccountServiceDeps['onSignIn'];
  hasher?: PasswordHasher;
}

/** What the accounts module offers the platform and other modules. */
export interface AccountsModule {
  routes: PlatformModuleRoutes[];
  /** Who is calling: other modules (organisations, GraphQL, the operator API) resolve sessions here. */
  sessions: ConsoleSessions;
  /** Middleware for routes that need a signed-in console account (and CSRF on mutations). */
  requireConsoleSession: RequireConsoleSession;
  /** Other modules (invitations) send their mail through the same transport. */
  mailer: Mailer;
  accounts: AccountService;
  /** Stops the sweeper, waits for mail in flight, closes the mail transport. */
  close(): Promise<void>;
}

function lifetimeOf(settings: AccountsModuleDeps['settings']): SessionLifetime {
  return {
    ...DEFAULT_SESSION_LIFETIME,
    idleTimeoutMs: settings.sessionIdleMinutes * 60 * 1000,
    maxAgeMs: settings.sessionMaxAgeHours * 60 * 60 * 1000,
  };
}

/** Wires console accounts: repository, hasher, mailer, session store and service, routes. */
export function createAccountsModule(deps: AccountsModuleDeps): AccountsModule {
  const logger = deps.logger.child({ component: 'accounts' });
  const lifetime = lifetimeOf(deps.settings);
  const repository = createPrismaAccountRepository(deps.prisma);
  const store = deps.redis
    ? createRedisSessionStore({ redis: deps.redis, keyPrefix: deps.instanceId, lifetime })
    : createPostgresSessionStore({ prisma: deps.prisma, lifetime });
  const sessions = createConsoleSessionService({
    store,
    lifetime,
    publicUrl: deps.publicUrl,
    findAccount: (accountId) => repository.findById(accountId),
  });
  const mailer = createMailer({
    dataDir: deps.dataDir,
    smtpUrl: deps.settings.smtpUrl,
    from: deps.settings.mailFrom,
  });
  const accounts = createAccountService({
    repository,
    hasher: deps.hasher ?? createPasswordHasher(),
    sessions,
    tenants: deps.tenants,
    mailer,
    audit: deps.audit,
    onSignIn: deps.onSignIn,
    linkBaseUrl: deps.linkBaseUrl,
    logger,
  });
  const requireConsoleSession = requireConsoleSessionWith(sessions);

  const sweeper =
    store.kind === 'postgres'
      ? setInterval(() => {
          sessions
            .sweep()
            .catch((error: unknown) => logger.warn({ err: error }, 'session sweep failed'));
        }, SWEEP_INTERVAL_MS).unref()
      : undefined;

  return {
    routes: [
      {
        path: '/auth',
        access: 'public',
        router: createAccountRouter({
          accounts,
          sessions,
          requireConsoleSession,
          publicUrl: deps.publicUrl,
          sessionMaxAgeMs: lifetime.maxAgeMs,
          limitLogin: deps.limitLogin,
        }),
      },
    ],
    sessions,
    requireConsoleSession,
    mailer,
    accounts,
    async close() {
      clearInterval(sweeper);
      await accounts.settle();
      mailer.close();
    },
  };
}
