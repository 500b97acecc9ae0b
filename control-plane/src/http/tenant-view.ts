import type { TenantResource } from '@citadel/contracts';
import type { ApiKeyRecord } from '../domain/api-key.service.ts';

/** The REST view of a tenant: the resource, plus its slug, name and plan at the top level. */
export function toTenantView(tenant: TenantResource) {
  const { deletionTimestamp, ...metadata } = tenant.metadata;
  return {
    apiVersion: tenant.apiVersion,
    kind: tenant.kind,
    slug: tenant.metadata.name,
    displayName: tenant.spec.displayName,
    plan: tenant.spec.plan,
    metadata: deletionTimestamp === undefined ? metadata : { ...metadata, deletionTimestamp },
    spec: tenant.spec,
    status: tenant.status,
  };
}

export function toApiKeyView(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    scopes: record.scopes,
    createdAt: record.createdAt.toISOString(),
    ...(record.lastUsedAt ? { lastUsedAt: record.lastUsedAt.toISOString() } : {}),
    ...(record.revokedAt ? { revokedAt: record.revokedAt.toISOString() } : {}),
  };
}
