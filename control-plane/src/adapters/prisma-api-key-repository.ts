import type { ApiKeyRecord, ApiKeyRepository } from '../domain/api-key.service.ts';
import type { ApiKey, PrismaClient } from '../generated/prisma/client.ts';

function toRecord(row: ApiKey): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt ?? undefined,
    revokedAt: row.revokedAt ?? undefined,
  };
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createPrismaApiKeyRepository(prisma: PrismaClient): ApiKeyRepository {
  return {
    async insert(tenantId, key) {
      return toRecord(await prisma.apiKey.create({ data: { tenantId, ...key } }));
    },
    async list(tenantId) {
      const rows = await prisma.apiKey.findMany({
        where: { tenantId },
        orderBy: { createdAt: 'asc' },
      });
      return rows.map(toRecord);
    },
    async revoke(tenantId, keyId) {
      if (!UUID_PATTERN.test(keyId)) return false;
      const result = await prisma.apiKey.updateMany({
        where: { id: keyId, tenantId },
        data: { revokedAt: new Date() },
      });
      return result.count === 1;
    },
    async findActiveByDigest(tenantId, secretHash) {
      const row = await prisma.apiKey.findFirst({
        where: { tenantId, secretHash, revokedAt: null },
      });
      return row ? toRecord(row) : undefined;
    },
    async touch(keyId, usedAt) {
      await prisma.apiKey.updateMany({ where: { id: keyId }, data: { lastUsedAt: usedAt } });
    },
  };
}
