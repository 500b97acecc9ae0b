import { join } from 'node:path';
import { TENANT_SLUG_MAX_LENGTH, TENANT_SLUG_PATTERN } from '@citadel/contracts';

/** Platform instance ids: six lower-case alphanumerics. */
export const INSTANCE_ID_PATTERN = /^[a-z0-9]{6}$/;

/** Names of a tenant's resources on the platform's shared PostgreSQL server. */
export interface LocalTenantNames {
  /** `citadel_<instanceId>_<slug with '-' as '_'>`: at most 55 characters, under PostgreSQL's 63. */
  databaseName: string;
  /** The tenant's own login role; the same name as its database. */
  roleName: string;
}

/**
 * The database and role names of tenant `slug` on platform instance `instanceId`. The
 * instance prefix keeps two platforms sharing one server apart. Validates both inputs,
 * since the names end up in SQL and paths.
 */
export function localTenantNames(instanceId: string, slug: string): LocalTenantNames {
  assertInstanceId(instanceId);
  assertSlug(slug);
  const name = `citadel_${instanceId}_${slug.replaceAll('-', '_')}`;
  return { databaseName: name, roleName: name };
}

/** The tenant's private directory: `<dataDir>/tenants/<slug>`. */
export function tenantDirectory(dataDir: string, slug: string): string {
  assertSlug(slug);
  return join(dataDir, 'tenants', slug);
}

/** Throws unless `instanceId` is six lower-case alphanumerics. */
export function assertInstanceId(instanceId: string): void {
  if (!INSTANCE_ID_PATTERN.test(instanceId)) {
    throw new Error(`instance id ${JSON.stringify(instanceId)} must match ${INSTANCE_ID_PATTERN}`);
  }
}

function assertSlug(slug: string): void {
  if (slug.length > TENANT_SLUG_MAX_LENGTH || !TENANT_SLUG_PATTERN.test(slug)) {
    throw new Error(`tenant slug ${JSON.stringify(slug)} is not a valid slug`);
  }
}
