import type { Prisma, PrismaClient, TenantGroup } from '../../generated/prisma/client.ts';
import type { JsonObject } from '../domain/scim-attribute-path.ts';
import { badRequest, notFound, preconditionFailed, ScimError } from '../domain/scim-error.ts';
import type {
  ScimGroupRecord,
  ScimGroupRepository,
  ScimGroupWrite,
} from '../domain/scim-group.service.ts';
import { isUniqueViolation, SCIM_TRANSACTION_OPTIONS } from './prisma-scim-user-repository.ts';
import { GROUP_RESOURCE_TYPE } from '../domain/scim-schemas.ts';
import { createScimSqlSearch, type ScimSqlSource } from './scim-sql-search.ts';
import { isUuid } from './uuid.ts';

type Transaction = Prisma.TransactionClient;
interface Member {
  userId: string;
  display: string;
}

function toRecord(row: TenantGroup, members: Member[] | undefined): ScimGroupRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    displayName: row.displayName,
    resource: row.resource as JsonObject,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    members,
  };
}

function columns(group: ScimGroupWrite) {
  return {
    displayName: group.displayName,
    displayNameKey: group.displayName.toLowerCase(),
    externalId: group.externalId ?? null,
    resource: group.resource as Prisma.InputJsonObject,
  };
}

function displayNameTaken(): ScimError {
  return new ScimError(409, 'A group with this displayName already exists.', 'uniqueness');
}

async function membersOf(
  client: Transaction | PrismaClient,
  tenantId: string,
  groupIds: string[] | undefined,
): Promise<Map<string, Member[]>> {
  const rows = await client.tenantGroupMember.findMany({
    where: { tenantId, ...(groupIds === undefined ? {} : { groupId: { in: groupIds } }) },
    select: {
      groupId: true,
      userId: true,
      user: { select: { displayName: true, userName: true } },
    },
    orderBy: [{ createdAt: 'asc' }, { userId: 'asc' }],
  });
  const byGroup = new Map<string, Member[]>();
  for (const row of rows) {
    const list = byGroup.get(row.groupId) ?? [];
    list.push({ userId: row.userId, display: row.user.displayName ?? row.user.userName });
    byGroup.set(row.groupId, list);
  }
  return byGroup;
}

/**
 * Inserts member rows for users of the tenant only, ignoring ones already there
 * (ON CONFLICT DO NOTHING); an id that is no user of the tenant is invalidValue.
 */
async function addMembers(tx: Transaction, tenantId: string, groupId: string, userIds: string[]) {
  if (userIds.length === 0) return;
  const unknown = userIds.filter((id) => !isUuid(id));
  const known = await tx.tenantUser.findMany({
    where: { tenantId, id: { in: userIds.filter(isUuid) } },
    select: { id: true },
  });
  const knownIds = new Set(known.map((row) => row.id));
  unknown.push(...userIds.filter((id) => isUuid(id) && !knownIds.has(id)));
  if (unknown.length > 0)
    throw badRequest('invalidValue', `No such user(s) in this tenant: ${unknown.join(', ')}.`);
  await tx.$executeRaw`
    INSERT INTO tenant_group_members (group_id, user_id, tenant_id)
    SELECT ${groupId}::uuid, user_id, ${tenantId}::uuid FROM unnest(${userIds}::uuid[]) AS user_id
    ON CONFLICT DO NOTHING`;
}

async function lockGroup(tx: Transaction, tenantId: string, id: string): Promise<TenantGroup> {
  const locked = isUuid(id)
    ? await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id FROM tenant_groups WHERE id = ${id}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`
    : [];
  if (locked.length === 0) throw notFound('Group', id);
  return tx.tenantGroup.findUniqueOrThrow({ where: { id } });
}

function rethrow(error: unknown): never {
  if (isUniqueViolation(error)) throw displayNameTaken();
  throw error;
}

/** How SCIM Group attributes map onto `tenant_groups` for searches in SQL. */
const GROUP_SQL_SOURCE = {
  resourceType: GROUP_RESOURCE_TYPE,
  from: 'tenant_groups r',
  select: `r.id, r.tenant_id AS "tenantId", r.display_name AS "displayName",
    r.display_name_key AS "displayNameKey", r.external_id AS "externalId", r.resource,
    r.version, r.created_at AS "createdAt", r.updated_at AS "updatedAt"`,
  resource: 'r.resource',
  columns: {
    id: { kind: 'uuid', sql: 'r.id' },
    displayName: { kind: 'text', sql: 'r.display_name', folded: 'r.display_name_key' },
    externalId: { kind: 'text', sql: 'r.external_id' },
    'meta.created': { kind: 'instant', sql: 'r.created_at' },
    'meta.lastModified': { kind: 'instant', sql: 'r.updated_at' },
  },
  // Served from other rows or computed: `members` from member rows, the rest of `meta`.
  derived: ['members', 'meta'],
} as const satisfies ScimSqlSource;

/** SCIM groups in `tenant_groups`, members as rows of `tenant_group_members`. */
export function createPrismaScimGroupRepository(prisma: PrismaClient): ScimGroupRepository {
  const searchRows = createScimSqlSearch<TenantGroup>(prisma, GROUP_SQL_SOURCE);
  return {
    async search(tenantId, search, withMembers) {
      const page = await searchRows(tenantId, search);
      if (!page) return undefined;
      const ids = page.records.map((row) => row.id);
      if (!withMembers) {
        const records = page.records.map((row) => toRecord(row, undefined));
        return { records, totalResults: page.totalResults };
      }
      const members = await membersOf(prisma, tenantId, ids);
      return {
        records: page.records.map((row) => toRecord(row, members.get(row.id) ?? [])),
        totalResults: page.totalResults,
      };
    },

    async insert(tenantId, group, memberIds) {
      return prisma
        .$transaction(async (tx) => {
          const row = await tx.tenantGroup.create({ data: { tenantId, ...columns(group) } });
          await addMembers(tx, tenantId, row.id, memberIds);
          return toRecord(row, (await membersOf(tx, tenantId, [row.id])).get(row.id) ?? []);
        }, SCIM_TRANSACTION_OPTIONS)
        .catch(rethrow);
    },

    async get(tenantId, id, withMembers) {
      if (!isUuid(id)) return undefined;
      const row = await prisma.tenantGroup.findFirst({ where: { id, tenantId } });
      if (!row) return undefined;
      if (!withMembers) return toRecord(row, undefined);
      return toRecord(row, (await membersOf(prisma, tenantId, [id])).get(id) ?? []);
    },

    async list(tenantId, candidates, withMembers) {
      if (candidates.id !== undefined && !isUuid(candidates.id)) return [];
      const rows = await prisma.tenantGroup.findMany({
        where: {
          tenantId,
          ...(candidates.id === undefined ? {} : { id: candidates.id }),
          ...(candidates.displayName === undefined
            ? {}
            : { displayNameKey: candidates.displayName.toLowerCase() }),
          ...(candidates.externalId === undefined ? {} : { externalId: candidates.externalId }),
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      if (!withMembers) return rows.map((row) => toRecord(row, undefined));
      const members = await membersOf(
        prisma,
        tenantId,
        rows.map((row) => row.id),
      );
      return rows.map((row) => toRecord(row, members.get(row.id) ?? []));
    },

    async modify(tenantId, id, expectedVersion, change) {
      return prisma
        .$transaction(async (tx) => {
          // The row lock serialises concurrent changes to one group, so none is lost.
          const row = await lockGroup(tx, tenantId, id);
          if (expectedVersion !== undefined && row.version !== expectedVersion)
            throw preconditionFailed(row.version);
          const current = toRecord(row, (await membersOf(tx, tenantId, [id])).get(id) ?? []);
          const { group, members } = change(current);
          const updated = await tx.tenantGroup.update({
            where: { id },
            data: { ...columns(group), version: { increment: 1 } },
          });
          if (members.remove.length > 0)
            await tx.tenantGroupMember.deleteMany({
              where: { tenantId, groupId: id, userId: { in: members.remove } },
            });
          await addMembers(tx, tenantId, id, members.add);
          return toRecord(updated, (await membersOf(tx, tenantId, [id])).get(id) ?? []);
        }, SCIM_TRANSACTION_OPTIONS)
        .catch(rethrow);
    },

    async remove(tenantId, id, expectedVersion) {
      await prisma.$transaction(async (tx) => {
        const row = await lockGroup(tx, tenantId, id);
        if (expectedVersion !== undefined && row.version !== expectedVersion)
          throw preconditionFailed(row.version);
        await tx.tenantGroup.delete({ where: { id } });
      }, SCIM_TRANSACTION_OPTIONS);
    },
  };
}
