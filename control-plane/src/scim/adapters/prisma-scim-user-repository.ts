import { Prisma, type PrismaClient, type TenantUser } from '../../generated/prisma/client.ts';
import type { JsonObject } from '../domain/scim-attribute-path.ts';
import { notFound, preconditionFailed, ScimError } from '../domain/scim-error.ts';
import type {
  ScimUserRecord,
  ScimUserRepository,
  ScimUserWrite,
} from '../domain/scim-user.service.ts';
import { USER_RESOURCE_TYPE } from '../domain/scim-schemas.ts';
import { createScimSqlSearch, type ScimSqlSource } from './scim-sql-search.ts';
import { isUuid } from './uuid.ts';

type Transaction = Prisma.TransactionClient;

/** Interactive transactions wait in line behind the row lock: give them room. */
export const SCIM_TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

function toRecord(
  row: TenantUser,
  groups: Array<{ id: string; displayName: string }>,
): ScimUserRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    userName: row.userName,
    active: row.active,
    resource: row.resource as JsonObject,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    groups,
  };
}

function columns(user: ScimUserWrite) {
  return {
    userName: user.userName,
    userNameKey: user.userName.toLowerCase(),
    externalId: user.externalId ?? null,
    active: user.active,
    displayName: user.displayName ?? null,
    resource: user.resource as Prisma.InputJsonObject,
  };
}

/** A unique violation on (tenant, lower(userName)) is SCIM's 409 uniqueness. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

function userNameTaken(userName: string): ScimError {
  return new ScimError(409, `userName "${userName}" is already taken.`, 'uniqueness');
}

async function groupsOf(
  client: Transaction | PrismaClient,
  tenantId: string,
  userIds: string[] | undefined,
): Promise<Map<string, Array<{ id: string; displayName: string }>>> {
  const rows = await client.tenantGroupMember.findMany({
    where: { tenantId, ...(userIds === undefined ? {} : { userId: { in: userIds } }) },
    select: { userId: true, group: { select: { id: true, displayName: true } } },
    orderBy: { createdAt: 'asc' },
  });
  const byUser = new Map<string, Array<{ id: string; displayName: string }>>();
  for (const row of rows) {
    const list = byUser.get(row.userId) ?? [];
    list.push(row.group);
    byUser.set(row.userId, list);
  }
  return byUser;
}

/** Locks the user row for the rest of the transaction; 404 when it is not in the tenant. */
async function lockUser(tx: Transaction, tenantId: string, id: string): Promise<TenantUser> {
  const locked = isUuid(id)
    ? await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id FROM tenant_users WHERE id = ${id}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`
    : [];
  if (locked.length === 0) throw notFound('User', id);
  return tx.tenantUser.findUniqueOrThrow({ where: { id } });
}

/**
 * Ends every session of the user: the gateway refuses their tokens from the same commit on
 * (`credentialsRevokedAt`), and no session is left to mint new ones.
 */
async function revokeSessions(tx: Transaction, tenantId: string, userId: string, now: Date) {
  await tx.tenantSession.updateMany({
    where: { tenantId, userId, revokedAt: null },
    data: { revokedAt: now },
  });
}

function checkVersion(row: { version: number }, expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && row.version !== expectedVersion)
    throw preconditionFailed(row.version);
}

/** How SCIM User attributes map onto `tenant_users` for searches in SQL. */
const USER_SQL_SOURCE = {
  resourceType: USER_RESOURCE_TYPE,
  from: 'tenant_users r',
  select: `r.id, r.tenant_id AS "tenantId", r.user_name AS "userName",
    r.user_name_key AS "userNameKey", r.external_id AS "externalId", r.active,
    r.display_name AS "displayName", r.resource, r.version,
    r.created_at AS "createdAt", r.updated_at AS "updatedAt"`,
  resource: 'r.resource',
  columns: {
    id: { kind: 'uuid', sql: 'r.id' },
    userName: { kind: 'text', sql: 'r.user_name', folded: 'r.user_name_key' },
    externalId: { kind: 'text', sql: 'r.external_id' },
    active: { kind: 'boolean', sql: 'r.active' },
    'meta.created': { kind: 'instant', sql: 'r.created_at' },
    'meta.lastModified': { kind: 'instant', sql: 'r.updated_at' },
  },
  // Served from other rows or computed: `groups` from memberships, the rest of `meta`.
  derived: ['groups', 'meta'],
} as const satisfies ScimSqlSource;

/** SCIM users in `tenant_users`, memberships from `tenant_group_members`. */
export function createPrismaScimUserRepository(prisma: PrismaClient): ScimUserRepository {
  const searchRows = createScimSqlSearch<TenantUser>(prisma, USER_SQL_SOURCE);
  return {
    async search(tenantId, search) {
      const page = await searchRows(tenantId, search);
      if (!page) return undefined;
      const ids = page.records.map((row) => row.id);
      const groups = await groupsOf(prisma, tenantId, ids);
      return {
        records: page.records.map((row) => toRecord(row, groups.get(row.id) ?? [])),
        totalResults: page.totalResults,
      };
    },

    async insert(tenantId, user) {
      try {
        const row = await prisma.tenantUser.create({ data: { tenantId, ...columns(user) } });
        return toRecord(row, []);
      } catch (error) {
        if (isUniqueViolation(error)) throw userNameTaken(user.userName);
        throw error;
      }
    },

    async get(tenantId, id) {
      if (!isUuid(id)) return undefined;
      const row = await prisma.tenantUser.findFirst({ where: { id, tenantId } });
      if (!row) return undefined;
      const groups = await groupsOf(prisma, tenantId, [id]);
      return toRecord(row, groups.get(id) ?? []);
    },

    async list(tenantId, candidates) {
      if (candidates.id !== undefined && !isUuid(candidates.id)) return [];
      const narrowed =
        candidates.id !== undefined ||
        candidates.userName !== undefined ||
        candidates.externalId !== undefined;
      const rows = await prisma.tenantUser.findMany({
        where: {
          tenantId,
          ...(candidates.id === undefined ? {} : { id: candidates.id }),
          ...(candidates.userName === undefined
            ? {}
            : { userNameKey: candidates.userName.toLowerCase() }),
          ...(candidates.externalId === undefined ? {} : { externalId: candidates.externalId }),
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      const groups = await groupsOf(
        prisma,
        tenantId,
        narrowed ? rows.map((row) => row.id) : undefined,
      );
      return rows.map((row) => toRecord(row, groups.get(row.id) ?? []));
    },

    async modify(tenantId, id, expectedVersion, change) {
      try {
        return await prisma.$transaction(async (tx) => {
          const row = await lockUser(tx, tenantId, id);
          checkVersion(row, expectedVersion);
          const groups = (await groupsOf(tx, tenantId, [id])).get(id) ?? [];
          const before = toRecord(row, groups);
          const next = change(before);
          // A deactivation revokes credentials in the same transaction as the write: there
          // is no moment when the user is inactive but a token or session still works.
          const revokedAt = before.active && !next.active ? new Date() : undefined;
          const updated = await tx.tenantUser.update({
            where: { id },
            data: {
              ...columns(next),
              version: { increment: 1 },
              ...(revokedAt ? { credentialsRevokedAt: revokedAt } : {}),
            },
          });
          if (revokedAt) await revokeSessions(tx, tenantId, id, revokedAt);
          return { before, after: toRecord(updated, groups) };
        }, SCIM_TRANSACTION_OPTIONS);
      } catch (error) {
        if (isUniqueViolation(error))
          throw new ScimError(409, 'The new userName is already taken.', 'uniqueness');
        throw error;
      }
    },

    async remove(tenantId, id, expectedVersion) {
      await prisma.$transaction(async (tx) => {
        const row = await lockUser(tx, tenantId, id);
        checkVersion(row, expectedVersion);
        // Sessions go with the row (ON DELETE CASCADE); the gateway refuses tokens of a user
        // who no longer exists.
        await tx.tenantUser.delete({ where: { id } });
      }, SCIM_TRANSACTION_OPTIONS);
    },
  };
}
