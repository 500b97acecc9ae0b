import { TENANT_FINALIZER } from '@citadel/contracts';
import { insertTenant } from '../adapters/prisma-tenant-repository.ts';
import { Prisma, type Account, type PrismaClient } from '../generated/prisma/client.ts';
import { AccountError } from './account-error.ts';
import {
  emailKeyOf,
  type AccountRecord,
  type AccountRepository,
  type EmailTokenPurpose,
} from './account-repository.ts';

function toRecord(row: Account): AccountRecord {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    passwordHash: row.passwordHash,
    emailVerifiedAt: row.emailVerifiedAt ?? undefined,
    disabledAt: row.disabledAt ?? undefined,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/** Runs `write`; a unique violation becomes `conflict()`, anything else goes on as it is. */
async function uniqueOr<T>(write: Promise<T>, conflict: () => Error): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict();
    throw error;
  }
}

/** Accounts and e-mail tokens in the control plane's PostgreSQL. */
export function createPrismaAccountRepository(prisma: PrismaClient): AccountRepository {
  /** Only a token still unconsumed and unexpired at `now` may be consumed. */
  const liveToken = (tokenDigest: string, purpose: EmailTokenPurpose, now: Date) => ({
    tokenDigest,
    purpose,
    consumedAt: null,
    expiresAt: { gt: now },
  });

  return {
    signUp: (records) =>
      prisma.$transaction(async (tx) => {
        const account = await uniqueOr(
          tx.account.create({
            data: {
              email: records.email,
              emailKey: emailKeyOf(records.email),
              displayName: records.displayName,
              passwordHash: records.passwordHash,
            },
          }),
          () => new AccountError('email-taken', 'An account with this e-mail address exists.'),
        );
        const organization = await uniqueOr(
          tx.organization.create({ data: records.organization }),
          () =>
            new AccountError(
              'organization-slug-taken',
              `An organisation "${records.organization.slug}" exists already.`,
              { slug: records.organization.slug },
            ),
        );
        await tx.organizationMember.create({
          data: { organizationId: organization.id, accountId: account.id, role: 'owner' },
        });
        const tenant = await insertTenant(tx, records.tenantSpec, [TENANT_FINALIZER], {
          organizationId: organization.id,
        });
        await tx.accountEmailToken.create({
          data: { accountId: account.id, ...records.verification },
        });
        return {
          account: toRecord(account),
          organization: {
            id: organization.id,
            slug: organization.slug,
            displayName: organization.displayName,
          },
          tenant,
        };
      }),

    async findByEmail(email) {
      const row = await prisma.account.findUnique({ where: { emailKey: emailKeyOf(email) } });
      return row ? toRecord(row) : undefined;
    },

    async findById(accountId) {
      const row = await prisma.account.findUnique({ where: { id: accountId } });
      return row ? toRecord(row) : undefined;
    },

    async updatePasswordHash(accountId, passwordHash) {
      await prisma.account.update({ where: { id: accountId }, data: { passwordHash } });
    },

    addEmailTokenUnlessRecent: (accountId, token, notBefore) =>
      prisma.$transaction(async (tx) => {
        // The account row's lock serialises concurrent requests for the same account.
        await tx.$queryRaw`SELECT id FROM accounts WHERE id = ${accountId}::uuid FOR UPDATE`;
        const recent = await tx.accountEmailToken.count({
          where: { accountId, purpose: token.purpose, createdAt: { gt: notBefore } },
        });
        if (recent > 0) return false;
        await tx.accountEmailToken.create({ data: { accountId, ...token } });
        return true;
      }),

    async findEmailToken(tokenDigest, purpose) {
      const row = await prisma.accountEmailToken.findUnique({
        where: { tokenDigest },
        include: { account: true },
      });
      if (row?.purpose !== purpose) return undefined;
      return {
        accountId: row.accountId,
        purpose,
        expiresAt: row.expiresAt,
        consumedAt: row.consumedAt ?? undefined,
        account: toRecord(row.account),
      };
    },

    consumeVerificationToken: (tokenDigest, now) =>
      prisma.$transaction(async (tx) => {
        const consumed = await tx.accountEmailToken.updateManyAndReturn({
          where: liveToken(tokenDigest, 'verify-email', now),
          data: { consumedAt: now },
        });
        const token = consumed[0];
        if (!token) return false;
        await tx.account.updateMany({
          where: { id: token.accountId, emailVerifiedAt: null },
          data: { emailVerifiedAt: now },
        });
        return true;
      }),

    consumeResetToken: (tokenDigest, passwordHash, now) =>
      prisma.$transaction(async (tx) => {
        const consumed = await tx.accountEmailToken.updateManyAndReturn({
          where: liveToken(tokenDigest, 'reset-password', now),
          data: { consumedAt: now },
        });
        const token = consumed[0];
        if (!token) return false;
        await tx.accountEmailToken.updateMany({
          where: { accountId: token.accountId, purpose: 'reset-password', consumedAt: null },
          data: { consumedAt: now },
        });
        const account = await tx.account.findUniqueOrThrow({ where: { id: token.accountId } });
        await tx.account.update({
          where: { id: token.accountId },
          data: { passwordHash, emailVerifiedAt: account.emailVerifiedAt ?? now },
        });
        return true;
      }),
  };
}
