import type { TenantResource } from '@citadel/contracts';
import { digestSecret, generateSecret } from './secret-digest.ts';
import { TenantError } from './tenant-error.ts';

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | undefined;
  revokedAt: Date | undefined;
}

export interface ApiKeyRepository {
  insert(
    tenantId: string,
    key: { name: string; prefix: string; secretHash: string; scopes: string[] },
  ): Promise<ApiKeyRecord>;
  list(tenantId: string): Promise<ApiKeyRecord[]>;
  /** Revokes the key if it belongs to `tenantId`; false when there is no such key. */
  revoke(tenantId: string, keyId: string): Promise<boolean>;
  /** The live key with this digest, only if it belongs to `tenantId`. */
  findActiveByDigest(tenantId: string, secretHash: string): Promise<ApiKeyRecord | undefined>;
  touch(keyId: string, usedAt: Date): Promise<void>;
}

export interface ApiKeyServiceDeps {
  repository: ApiKeyRepository;
  getTenant(slug: string): Promise<TenantResource | undefined>;
}

/** How often last-used times are written: a busy key must not write on every request. */
const TOUCH_INTERVAL_MS = 60_000;

/** Tenant API keys: prefixed, shown once, stored as digests, scoped, revocable. */
export function createApiKeyService(deps: ApiKeyServiceDeps) {
  const lastTouched = new Map<string, number>();

  async function tenantIdOf(slug: string): Promise<string> {
    const tenant = await deps.getTenant(slug);
    if (!tenant || tenant.metadata.deletionTimestamp !== undefined) {
      throw new TenantError('tenant-not-found', `No tenant "${slug}".`, { slug });
    }
    return tenant.metadata.uid;
  }

  return {
    async issue(slug: string, input: { name: string; scopes: string[] }) {
      const tenantId = await tenantIdOf(slug);
      const key = generateSecret('ctd_live');
      const record = await deps.repository.insert(tenantId, {
        name: input.name,
        prefix: key.slice(0, 16),
        secretHash: digestSecret(key),
        scopes: input.scopes,
      });
      return { record, key };
    },

    async list(slug: string) {
      return deps.repository.list(await tenantIdOf(slug));
    },

    async revoke(slug: string, keyId: string): Promise<boolean> {
      return deps.repository.revoke(await tenantIdOf(slug), keyId);
    },

    /** The key record when `presented` is a live key of the tenant `tenantId`. */
    async authenticate(tenantId: string, presented: string): Promise<ApiKeyRecord | undefined> {
      if (!presented.startsWith('ctd_live_')) return undefined;
      const record = await deps.repository.findActiveByDigest(tenantId, digestSecret(presented));
      if (!record) return undefined;
      const now = Date.now();
      if (now - (lastTouched.get(record.id) ?? 0) > TOUCH_INTERVAL_MS) {
        lastTouched.set(record.id, now);
        await deps.repository.touch(record.id, new Date(now));
      }
      return record;
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
