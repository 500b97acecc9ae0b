export {
  createLocalTenantDrivers,
  type LocalTenantDrivers,
  type LocalTenantDriversDeps,
} from './local-tenant-drivers.ts';
export {
  createLocalKeyRing,
  decryptWithDataKey,
  encryptWithDataKey,
  KeyRingError,
  masterKeyPath,
  type KeyRingErrorCode,
  type LocalKeyRing,
  type LocalKeyRingOptions,
} from './local-key-ring.ts';
export {
  TenantDataKeysError,
  type TenantCiphertext,
  type TenantDataKeys,
  type TenantDataKeysErrorCode,
} from './tenant-data-keys.ts';
export type { DatabaseServerAddress, LocalServicesControl } from './local-services-driver.ts';
export {
  DEFAULT_SUPERVISION_POLICY,
  type HostChange,
  type HostChangeListener,
  type SupervisionPolicy,
} from './host-supervisor.ts';
export type { DriverLogger } from './driver-logger.ts';
export { localTenantNames, tenantDirectory, type LocalTenantNames } from './local-tenant-names.ts';
export { VECTOR_SCHEMA } from './local-vector-store-driver.ts';
export {
  TENANT_EXPORT_FORMAT,
  type TenantAuditExportSummary,
  type TenantExportRecord,
  type TenantExportSources,
} from './local-data-export-driver.ts';
export type { DatabaseDumpMethod, DatabaseDumpSummary } from './tenant-database-dump.ts';
export { EXPORT_MANIFEST, exportsDirectory, type ExportedFile } from './tenant-export-directory.ts';
