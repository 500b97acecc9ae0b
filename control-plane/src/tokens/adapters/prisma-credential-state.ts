import type { PrismaClient } from '../../adapters/prisma-client.ts';
import { isUuid } from '../../scim/adapters/uuid.ts';
import type { CredentialStateReader } from '../domain/access-token.service.ts';

/**
 * The gateway's per-request check of a token's user: one primary-key lookup in
 * `tenant_users`, scoped by the tenant, reading two columns.
 */
export function createPrismaCredentialStateReader(prisma: PrismaClient): CredentialStateReader {
  return async (tenantId, userId) => {
    if (!isUuid(userId)) return undefined;
    const row = await prisma.tenantUser.findFirst({
      where: { id: userId, tenantId },
      select: { active: true, credentialsRevokedAt: true },
    });
    if (!row) return undefined;
    return { active: row.active, credentialsRevokedAt: row.credentialsRevokedAt ?? undefined };
  };
}
