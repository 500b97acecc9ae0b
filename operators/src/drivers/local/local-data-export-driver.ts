import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlanDefinition, TenantResource } from '@citadel/contracts';
import type { ObservedDataExport } from '../../core/observed-state.ts';
import type { DataExportAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import type { DriverLogger } from './driver-logger.ts';
import type { TenantDatabaseDumper } from './tenant-database-dump.ts';
import {
  completeExport,
  exportDirectoryName,
  findCompletedExport,
  startPartialExport,
} from './tenant-export-directory.ts';

/** `tenant.json`: the Tenant resource as the platform last stored it, and its plan. */
export interface TenantExportRecord {
  tenant: TenantResource;
  plan: PlanDefinition | undefined;
}

/** What the audit part of an export holds, for the manifest. */
export interface TenantAuditExportSummary {
  entries: number;
  /** The sequence of the final checkpoint, signed at export time (0 for an empty log). */
  lastSequence: number;
  signingKeyIds: string[];
}

/**
 * The parts of an export that live in the control plane. The platform passes functions, so
 * the operators never depend on control-plane code.
 */
export interface TenantExportSources {
  /** The tenant's resource and plan; throws if the tenant with this uid is not stored. */
  describeTenant(tenant: TenantRef): Promise<TenantExportRecord>;
  /**
   * Writes the tenant's audit log into `directory`: the entries as NDJSON, every checkpoint
   * with a final one signed now, and the public keys that verify them.
   */
  exportAuditLog(tenant: TenantRef, directory: string): Promise<TenantAuditExportSummary>;
}

export interface LocalDataExportDriverDeps {
  /** `CITADEL_DATA_DIR`: exports go under `exports/` and stay after the tenant is gone. */
  dataDir: string;
  sources: TenantExportSources;
  dumpDatabase: TenantDatabaseDumper;
  logger: DriverLogger;
  now?: () => Date;
}

/** The manifest's `format`: readers check it before trusting the layout. */
export const TENANT_EXPORT_FORMAT = 'citadel.tenant-export/v1';

/**
 * The export taken before a tenant is deleted, as a directory
 * `<dataDir>/exports/<slug>-<uid>-<timestamp>/` (0700, files 0600): `tenant.json`, the
 * audit log (`audit.ndjson`, `audit-checkpoints.json`, `audit-signing-keys.json`), the
 * database (`database.sql`, or `database/` as CSV) and `manifest.json` with the SHA-256 of
 * every file. The tenant's secrets (database password, data keys) are never exported.
 *
 * Crash-safe: the export is written into a partial directory and renamed into place once
 * complete, so a finished export is observed and never repeated, and an interrupted one is
 * discarded and written afresh by the retry.
 */
export function createLocalDataExportDriver(
  deps: LocalDataExportDriverDeps,
): ComponentDriver<ObservedDataExport, DataExportAction> {
  const now = deps.now ?? (() => new Date());

  async function writeExport(tenant: TenantRef): Promise<string> {
    const startedAt = now();
    const partial = await startPartialExport(deps.dataDir, tenant);
    const record = await deps.sources.describeTenant(tenant);
    await writeFile(join(partial, 'tenant.json'), `${JSON.stringify(record, undefined, 2)}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    const audit = await deps.sources.exportAuditLog(tenant, partial);
    const database = await deps.dumpDatabase(tenant, partial);
    return completeExport(partial, exportDirectoryName(tenant, startedAt), {
      format: TENANT_EXPORT_FORMAT,
      tenant: { slug: tenant.slug, uid: tenant.uid },
      exportedAt: startedAt.toISOString(),
      reason: 'tenant deletion',
      audit,
      database,
      secrets: "not exported: the tenant's database password and data keys are destroyed with it",
    });
  }

  return {
    async observe(tenant) {
      const location = await findCompletedExport(deps.dataDir, tenant);
      return { completed: location !== undefined, location };
    },
    /** The one action, `export`: a finished export is kept, never written twice. */
    async apply(tenant) {
      if ((await findCompletedExport(deps.dataDir, tenant)) !== undefined) return;
      const location = await writeExport(tenant);
      deps.logger.info({ tenant: tenant.slug, location }, 'tenant data exported');
    },
  };
}
