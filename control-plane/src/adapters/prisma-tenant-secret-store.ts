import type { StoredDatabaseCredentials, TenantSecretStore } from '@citadel/operators';
import type { PrismaClient } from '../generated/prisma/client.ts';

/** Tenants' wrapped data keys and encrypted database credentials in the control plane's database. */
export function createPrismaTenantSecretStore(prisma: PrismaClient): TenantSecretStore {
  return {
    async listDataKeys(tenantUid) {
      const rows = await prisma.tenantDataKey.findMany({
        where: { tenantId: tenantUid },
        orderBy: { version: 'asc' },
      });
      return rows.map((row) => ({
        version: row.version,
        wrappedKey: Buffer.from(row.wrappedKey),
        active: row.active,
        createdAt: row.createdAt,
      }));
    },

    async addDataKey(tenantUid, key) {
      await prisma.$transaction(async (tx) => {
        const existing = await tx.tenantDataKey.findUnique({
          where: { tenantId_version: { tenantId: tenantUid, version: key.version } },
        });
        if (existing) return;
        await tx.tenantDataKey.updateMany({
          where: { tenantId: tenantUid },
          data: { active: false },
        });
        await tx.tenantDataKey.create({
          data: {
            tenantId: tenantUid,
            version: key.version,
            wrappedKey: new Uint8Array(key.wrappedKey),
            active: true,
          },
        });
      });
    },

    async deleteDataKeys(tenantUid) {
      await prisma.tenantDataKey.deleteMany({ where: { tenantId: tenantUid } });
    },

    async getDatabaseCredentials(tenantUid): Promise<StoredDatabaseCredentials | undefined> {
      const row = await prisma.tenantDatabase.findUnique({ where: { tenantId: tenantUid } });
      if (!row) return undefined;
      return {
        databaseName: row.databaseName,
        roleName: row.roleName,
        passwordCiphertext: Buffer.from(row.passwordCiphertext),
        keyVersion: row.keyVersion,
      };
    },

    async putDatabaseCredentials(tenantUid, credentials) {
      const data = {
        databaseName: credentials.databaseName,
        roleName: credentials.roleName,
        passwordCiphertext: new Uint8Array(credentials.passwordCiphertext),
        keyVersion: credentials.keyVersion,
      };
      await prisma.tenantDatabase.upsert({
        where: { tenantId: tenantUid },
        create: { tenantId: tenantUid, ...data },
        update: data,
      });
    },

    async deleteDatabaseCredentials(tenantUid) {
      await prisma.tenantDatabase.deleteMany({ where: { tenantId: tenantUid } });
    },
  };
}
