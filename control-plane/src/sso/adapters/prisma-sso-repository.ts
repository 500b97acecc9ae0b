import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import { SsoError } from '../domain/sso-error.ts';
import type { SessionRevocation, SsoConnectionChanges } from '../domain/sso-connection-update.ts';
import type { MappedIdentity, TenantRole } from '../domain/sso-identity-rules.ts';
import type {
  ActiveSession,
  LoginTransactionRecord,
  SsoConnectionRecord,
  SsoConnectionUpdateResult,
  SsoRepository,
  SsoUserRecord,
} from '../domain/sso-repository.ts';

type ConnectionRow = Prisma.SsoConnectionGetPayload<object>;
type Transaction = Prisma.TransactionClient;
type UserRow = Pick<Prisma.TenantUserGetPayload<object>, 'id' | 'userName' | 'active' | 'roles'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toConnection(row: ConnectionRow): SsoConnectionRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    issuer: row.issuer,
    clientId: row.clientId,
    clientSecretCiphertext: Buffer.from(row.clientSecretCiphertext),
    keyVersion: row.keyVersion,
    scopes: row.scopes,
    emailClaim: row.emailClaim,
    nameClaim: row.nameClaim,
    groupsClaim: row.groupsClaim,
    groupRoles: row.groupRoles as Record<string, TenantRole>,
    defaultRole: (row.defaultRole ?? undefined) as TenantRole | undefined,
    allowedEmailDomains: row.allowedEmailDomains,
    enabled: row.enabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toUser(row: UserRow): SsoUserRecord {
  return {
    id: row.id,
    userName: row.userName,
    active: row.active,
    roles: row.roles as TenantRole[],
  };
}

const USER_SELECT = { id: true, userName: true, active: true, roles: true } as const;

/** The SCIM User resource of a user SSO creates, so SCIM reads it like any other. */
function scimResource(identity: MappedIdentity): Prisma.InputJsonObject {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: identity.email,
    ...(identity.displayName === undefined
      ? {}
      : { displayName: identity.displayName, name: { formatted: identity.displayName } }),
    emails: [{ value: identity.email, primary: true }],
    active: true,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/** The columns of an update; `defaultRole: undefined` is written as NULL (cleared). */
function updateData(
  changes: SsoConnectionChanges,
  updatedAt: Date,
): Prisma.SsoConnectionUpdateManyMutationInput {
  const { clientSecretCiphertext, defaultRole, groupRoles, ...columns } = changes;
  return {
    ...columns,
    ...(clientSecretCiphertext === undefined
      ? {}
      : { clientSecretCiphertext: new Uint8Array(clientSecretCiphertext) }),
    ...('defaultRole' in changes ? { defaultRole: defaultRole ?? null } : {}),
    ...(groupRoles === undefined ? {} : { groupRoles }),
    updatedAt,
  };
}

/**
 * Locks the connection row until the transaction ends: `FOR SHARE` for a login creating a
 * session, `FOR UPDATE` for a delete. An update's own row lock conflicts with both, so a
 * disable and a login in flight are ordered rather than interleaved.
 */
async function lockConnection(
  tx: Transaction,
  tenantId: string,
  id: string,
  mode: 'share' | 'update',
): Promise<boolean> {
  const rows =
    mode === 'share'
      ? await tx.$queryRaw<unknown[]>`SELECT 1 FROM sso_connections
          WHERE tenant_id = ${tenantId}::uuid AND id = ${id}::uuid FOR SHARE`
      : await tx.$queryRaw<unknown[]>`SELECT 1 FROM sso_connections
          WHERE tenant_id = ${tenantId}::uuid AND id = ${id}::uuid FOR UPDATE`;
  return rows.length > 0;
}

/** Revokes the live sessions `revocation` names; returns how many. */
async function revokeConnectionSessions(
  tx: Transaction,
  connection: { tenantId: string; id: string },
  revocation: SessionRevocation,
  now: Date,
): Promise<number> {
  const { tenantId, id: connectionId } = connection;
  const outside =
    revocation.kind === 'all'
      ? {}
      : {
          user: {
            NOT: {
              OR: revocation.domains.map((domain) => ({ userNameKey: { endsWith: `@${domain}` } })),
            },
          },
        };
  const { count } = await tx.tenantSession.updateMany({
    where: { tenantId, connectionId, revokedAt: null, ...outside },
    data: { revokedAt: now },
  });
  return count;
}

/** The SSO repository on Prisma. */
export function createPrismaSsoRepository(prisma: PrismaClient): SsoRepository {
  async function findUser(tenantId: string, email: string): Promise<UserRow | null> {
    return prisma.tenantUser.findUnique({
      where: { tenantId_userNameKey: { tenantId, userNameKey: email.toLowerCase() } },
      select: USER_SELECT,
    });
  }

  async function createUser(tenantId: string, identity: MappedIdentity): Promise<UserRow> {
    try {
      return await prisma.tenantUser.create({
        data: {
          tenantId,
          userName: identity.email,
          userNameKey: identity.email.toLowerCase(),
          displayName: identity.displayName ?? null,
          resource: scimResource(identity),
          roles: identity.roles,
        },
        select: USER_SELECT,
      });
    } catch (error) {
      // Two first logins of the same user at once: the other one created it.
      const existing = isUniqueViolation(error) ? await findUser(tenantId, identity.email) : null;
      if (existing === null) throw error;
      return existing;
    }
  }

  async function findActiveSession(tenantId: string, tokenDigest: string, now: Date) {
    const row = await prisma.tenantSession.findFirst({
      where: { tenantId, tokenDigest, revokedAt: null, expiresAt: { gt: now } },
      include: { user: { select: USER_SELECT } },
    });
    if (!row?.user.active) return undefined;
    const session: ActiveSession = {
      id: row.id,
      connectionId: row.connectionId ?? undefined,
      expiresAt: row.expiresAt,
      user: toUser(row.user),
    };
    return session;
  }

  return {
    async createConnection(tenantId, connection) {
      try {
        const row = await prisma.ssoConnection.create({
          data: {
            ...connection,
            tenantId,
            clientSecretCiphertext: new Uint8Array(connection.clientSecretCiphertext),
            defaultRole: connection.defaultRole ?? null,
          },
        });
        return toConnection(row);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        throw new SsoError('connection-name-taken', `A connection "${connection.name}" exists.`);
      }
    },
    async listConnections(tenantId) {
      const rows = await prisma.ssoConnection.findMany({
        where: { tenantId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      return rows.map(toConnection);
    },
    async findConnection(tenantId, id) {
      if (!UUID.test(id)) return undefined;
      const row = await prisma.ssoConnection.findFirst({ where: { tenantId, id } });
      return row === null ? undefined : toConnection(row);
    },
    async updateConnection(tenantId, id, update) {
      if (!UUID.test(id)) return { outcome: 'not-found' };
      try {
        return await prisma.$transaction(async (tx): Promise<SsoConnectionUpdateResult> => {
          const { count } = await tx.ssoConnection.updateMany({
            where: { tenantId, id, updatedAt: update.expectedUpdatedAt },
            data: updateData(update.changes, update.updatedAt),
          });
          if (count === 0) {
            const exists = await tx.ssoConnection.count({ where: { tenantId, id } });
            return { outcome: exists === 0 ? 'not-found' : 'modified' };
          }
          const revokedSessions =
            update.revoke === undefined
              ? 0
              : await revokeConnectionSessions(
                  tx,
                  { tenantId, id },
                  update.revoke,
                  update.updatedAt,
                );
          const row = await tx.ssoConnection.findFirstOrThrow({ where: { tenantId, id } });
          return { outcome: 'updated', connection: toConnection(row), revokedSessions };
        });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        throw new SsoError(
          'connection-name-taken',
          `A connection "${update.changes.name ?? ''}" exists.`,
        );
      }
    },
    async deleteConnection(tenantId, id, now) {
      if (!UUID.test(id)) return undefined;
      return prisma.$transaction(async (tx) => {
        // Locked first: the sessions are revoked before ON DELETE SET NULL forgets their origin.
        if (!(await lockConnection(tx, tenantId, id, 'update'))) return undefined;
        const revoked = await revokeConnectionSessions(tx, { tenantId, id }, { kind: 'all' }, now);
        await tx.ssoConnection.deleteMany({ where: { tenantId, id } });
        return revoked;
      });
    },

    async createLoginTransaction(tenantId, transaction) {
      await prisma.ssoLoginTransaction.create({ data: { ...transaction, tenantId } });
    },
    async findLoginTransaction(stateDigest) {
      const row = await prisma.ssoLoginTransaction.findUnique({
        where: { stateDigest },
        include: { tenant: { select: { slug: true } } },
      });
      if (row === null) return undefined;
      const record: LoginTransactionRecord = {
        id: row.id,
        tenantId: row.tenantId,
        tenantSlug: row.tenant.slug,
        connectionId: row.connectionId,
        browserBindingDigest: row.browserBindingDigest,
        nonce: row.nonce,
        codeVerifier: row.codeVerifier,
        returnTo: row.returnTo,
        expiresAt: row.expiresAt,
        consumedAt: row.consumedAt ?? undefined,
      };
      return record;
    },
    async consumeLoginTransaction(tenantId, id, now) {
      // One UPDATE … WHERE consumed_at IS NULL: of two concurrent callbacks only one wins.
      const { count } = await prisma.ssoLoginTransaction.updateMany({
        where: { tenantId, id, consumedAt: null, expiresAt: { gt: now } },
        data: { consumedAt: now },
      });
      return count === 1;
    },
    async deleteLoginTransactionsExpiredBefore(before) {
      const { count } = await prisma.ssoLoginTransaction.deleteMany({
        where: { expiresAt: { lt: before } },
      });
      return count;
    },

    async upsertUser(tenantId, identity) {
      const existing = await findUser(tenantId, identity.email);
      if (existing === null) return toUser(await createUser(tenantId, identity));
      if (!existing.active) return toUser(existing);
      const updated = await prisma.tenantUser.update({
        where: { id: existing.id },
        data: { roles: identity.roles },
        select: USER_SELECT,
      });
      return toUser(updated);
    },

    async createSession(tenantId, session, admit) {
      await prisma.$transaction(async (tx) => {
        const id = session.connectionId;
        const row = (await lockConnection(tx, tenantId, id, 'share'))
          ? await tx.ssoConnection.findFirst({ where: { tenantId, id } })
          : null;
        if (row === null) throw new SsoError('connection-not-found', `No SSO connection "${id}".`);
        admit(toConnection(row));
        await tx.tenantSession.create({ data: { ...session, tenantId } });
      });
    },
    findActiveSession,
    async revokeSession(tenantId, tokenDigest, now) {
      const session = await findActiveSession(tenantId, tokenDigest, now);
      if (session === undefined) return undefined;
      await prisma.tenantSession.updateMany({
        where: { tenantId, id: session.id, revokedAt: null },
        data: { revokedAt: now },
      });
      return session;
    },
  };
}
