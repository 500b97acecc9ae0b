import type { PrismaClient, ScimToken } from '../../generated/prisma/client.ts';
import type { ScimTokenRecord, ScimTokenRepository } from '../domain/scim-token.service.ts';
import { isUuid } from './uuid.ts';

function toRecord(row: ScimToken): ScimTokenRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt ?? undefined,
    revokedAt: row.revokedAt ?? undefined,
  };
}

/** SCIM tokens in the `scim_tokens` table. */
export function createPrismaScimTokenRepository(prisma: PrismaClient): ScimTokenRepository {
  return {
    async insert(tenantId, token) {
      return toRecord(await prisma.scimToken.create({ data: { tenantId, ...token } }));
    },
    async list(tenantId) {
      const rows = await prisma.scimToken.findMany({
        where: { tenantId },
        orderBy: { createdAt: 'asc' },
      });
      return rows.map(toRecord);
    },
    async revoke(tenantId, tokenId) {
      if (!isUuid(tokenId)) return false;
      const result = await prisma.scimToken.updateMany({
        where: { id: tokenId, tenantId },
        data: { revokedAt: new Date() },
      });
      return result.count === 1;
    },
    async findActiveByDigest(secretHash) {
      const row = await prisma.scimToken.findFirst({
        where: { secretHash, revokedAt: null, tenant: { deletionRequestedAt: null } },
      });
      return row ? toRecord(row) : undefined;
    },
    async touch(tenantId, tokenId, usedAt) {
      await prisma.scimToken.updateMany({
        where: { id: tokenId, tenantId },
        data: { lastUsedAt: usedAt },
      });
    },
  };
}
