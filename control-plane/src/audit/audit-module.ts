import type { TenantResource } from '@citadel/contracts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PlatformModuleRoutes } from '../http/platform-app.ts';
import type { Logger } from '../logger.ts';
import { writeAuditExport, type AuditExportSummary } from './audit-export-writer.ts';
import { createAuditLog, type AuditLog } from './audit-log.ts';
import { createAuditRecorder, type AuditRecorder } from './audit-recorder.ts';
import { createAuditRouter, createAuditSigningKeysRouter } from './audit-routes.ts';
import { loadAuditSigner } from './audit-signer.ts';

export interface AuditModuleDeps {
  prisma: PrismaClient;
  /** The platform's data directory; the signing key lives in `keys/audit-signing-key.pem`. */
  dataDir: string;
  logger: Logger;
  getTenant(slug: string): Promise<TenantResource | undefined>;
  /** A signed checkpoint after every this many entries (default 100). */
  checkpointEvery?: number;
}

/** The audit module: its log, the recorder other modules write through, and its routes. */
export interface AuditModule {
  auditLog: AuditLog;
  recorder: AuditRecorder;
  routes: PlatformModuleRoutes[];
  /**
   * Writes the tenant's log, a checkpoint signed now and the public keys into `directory`:
   * the audit part of the export taken before a tenant is deleted.
   */
  exportTenantLog(tenantId: string, directory: string): Promise<AuditExportSummary>;
}

/** Wires the audit module: loads (or creates) the signing key, builds the log and its routers. */
export async function createAuditModule(deps: AuditModuleDeps): Promise<AuditModule> {
  const logger = deps.logger.child({ component: 'audit' });
  const signer = await loadAuditSigner(deps.dataDir);
  const auditLog = createAuditLog({
    prisma: deps.prisma,
    signer,
    logger,
    ...(deps.checkpointEvery === undefined ? {} : { checkpointEvery: deps.checkpointEvery }),
  });
  return {
    auditLog,
    recorder: createAuditRecorder({ auditLog, logger }),
    exportTenantLog: (tenantId, directory) =>
      writeAuditExport({ auditLog, signer }, tenantId, directory),
    routes: [
      {
        path: '/tenants/:slug/audit',
        access: 'operator',
        router: createAuditRouter({ auditLog, getTenant: (slug) => deps.getTenant(slug) }),
      },
      {
        path: '/api/v1/audit/signing-keys',
        access: 'public',
        router: createAuditSigningKeysRouter(signer),
      },
    ],
  };
}
