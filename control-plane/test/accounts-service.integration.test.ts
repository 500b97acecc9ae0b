import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createControlPlaneMigrations } from '@citadel/postgres';
import { startTestPostgres, type TestPostgres } from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountError } from '../src/accounts/account-error.ts';
import { createAccountService, type AccountService } from '../src/accounts/account.service.ts';
import { createConsoleSessionService } from '../src/accounts/console-session.service.ts';
import { createMailer, type Mailer } from '../src/accounts/mailer.ts';
import {
  ARGON2ID_PARAMETERS,
  createPasswordHasher,
  type PasswordHasher,
} from '../src/accounts/password-hasher.ts';
import { createPrismaAccountRepository } from '../src/accounts/prisma-account-repository.ts';
import { DEFAULT_SESSION_LIFETIME } from '../src/accounts/session-lifetime.ts';
import { createPostgresSessionStore } from '../src/accounts/session-store.ts';
import { createPrismaClient, type PrismaClient } from '../src/adapters/prisma-client.ts';
import { createPrismaTenantRepository } from '../src/adapters/prisma-tenant-repository.ts';
import { syncPlanCatalog } from '../src/adapters/platform-settings.ts';
import { createTenantService } from '../src/domain/tenant.service.ts';
import { createLogger } from '../src/logger.ts';

/**
 * The account service on a real PostgreSQL, without HTTP: what the routes cannot show
 * (how often a password is hashed, that weak hashes are upgraded at login). No reconciler
 * runs here; the tenant service's wake-up call is counted instead.
 */
const PASSWORD = 'correct horse battery staple';

let postgres: TestPostgres;
let prisma: PrismaClient;
let dataDir: string;
let mailer: Mailer;
const reconcileRequests: string[] = [];

beforeAll(async () => {
  postgres = await startTestPostgres();
  const databaseUrl = await postgres.createDatabase('account_service');
  await createControlPlaneMigrations(databaseUrl).deploy();
  prisma = createPrismaClient(databaseUrl);
  await syncPlanCatalog(prisma);
  dataDir = await mkdtemp(path.join(tmpdir(), 'citadel-accounts-'));
  mailer = createMailer({ dataDir, from: 'Citadel <no-reply@localhost>' });
});

afterAll(async () => {
  mailer.close();
  await prisma.$disconnect();
  await postgres.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The real hasher, counting its calls. */
function countingHasher(inner: PasswordHasher) {
  const calls = { hash: 0, verify: 0 };
  const hasher: PasswordHasher = {
    hash: (password) => {
      calls.hash += 1;
      return inner.hash(password);
    },
    verify: (password, encoded) => {
      calls.verify += 1;
      return inner.verify(password, encoded);
    },
    needsRehash: (encoded) => inner.needsRehash(encoded),
  };
  return { hasher, calls };
}

function accountService(hasher: PasswordHasher): AccountService {
  const repository = createPrismaAccountRepository(prisma);
  const tenantRepository = createPrismaTenantRepository(prisma);
  return createAccountService({
    repository,
    hasher,
    sessions: createConsoleSessionService({
      store: createPostgresSessionStore({ prisma, lifetime: DEFAULT_SESSION_LIFETIME }),
      lifetime: DEFAULT_SESSION_LIFETIME,
      publicUrl: undefined,
      findAccount: (accountId) => repository.findById(accountId),
    }),
    tenants: createTenantService({
      repository: tenantRepository,
      requestReconcile: (slug) => reconcileRequests.push(slug),
      defaultRegion: 'local',
    }),
    mailer,
    linkBaseUrl: () => 'http://localhost:8080',
    logger: createLogger('silent'),
  });
}

let counter = 0;
async function signUpVerified(service: AccountService): Promise<string> {
  counter += 1;
  const email = `person${counter}@example.com`;
  const signedUp = await service.signUp(
    {
      email,
      password: PASSWORD,
      displayName: 'Person',
      organization: { slug: `org-${counter}`, displayName: 'Org' },
      tenant: { slug: `tenant-${counter}`, plan: 'starter' },
    },
    { ip: undefined, userAgent: undefined },
  );
  expect(reconcileRequests).toContain(signedUp.tenant.metadata.name);
  await prisma.account.update({
    where: { id: signedUp.account.id },
    data: { emailVerifiedAt: new Date() },
  });
  return email;
}

describe('account service', () => {
  it('hashes once for an unknown e-mail, as for a known one', async () => {
    const { hasher, calls } = countingHasher(createPasswordHasher());
    const service = accountService(hasher);
    const email = await signUpVerified(service);

    const origin = { ip: undefined, userAgent: undefined };
    calls.verify = 0;
    await expect(service.logIn({ email, password: 'wrong password!!' }, origin)).rejects.toThrow(
      AccountError,
    );
    expect(calls.verify).toBe(1);
    await expect(
      service.logIn({ email: 'nobody@example.com', password: PASSWORD }, origin),
    ).rejects.toMatchObject({ code: 'invalid-credentials' });
    expect(calls.verify).toBe(2);
  });

  it('upgrades a hash made with weaker parameters when its owner signs in', async () => {
    const weak = createPasswordHasher({
      argon2Parameters: { ...ARGON2ID_PARAMETERS, memoryKib: 4_096, passes: 1 },
    });
    const email = await signUpVerified(accountService(weak));
    const stored = async () =>
      (await prisma.account.findUniqueOrThrow({ where: { emailKey: email } })).passwordHash;
    expect(await stored()).toContain('$m=4096,t=1,p=1$');

    const service = accountService(createPasswordHasher());
    await service.logIn({ email, password: PASSWORD }, { ip: undefined, userAgent: undefined });
    expect(await stored()).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    // The upgraded hash still opens the account.
    await service.logIn({ email, password: PASSWORD }, { ip: undefined, userAgent: undefined });
  });

  it('sends at most one reset mail a minute per account, even to concurrent requests', async () => {
    const service = accountService(createPasswordHasher());
    const email = await signUpVerified(service);
    const account = await prisma.account.findUniqueOrThrow({ where: { emailKey: email } });
    for (let index = 0; index < 3; index += 1) service.requestPasswordReset(email);
    await service.settle();
    const tokens = await prisma.accountEmailToken.count({
      where: { accountId: account.id, purpose: 'reset-password' },
    });
    expect(tokens).toBe(1);
  });
});
