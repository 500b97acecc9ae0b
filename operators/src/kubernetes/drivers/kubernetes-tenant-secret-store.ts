import { MANAGED_BY, TENANT_UID_LABEL } from '@citadel/tenant-templates';
import type {
  StoredDatabaseCredentials,
  StoredDataKey,
  TenantSecretStore,
} from '../../core/tenant-secret-store.ts';
import { isConflict, isNotFound } from '../kubernetes-clients.ts';
import { resourcePath, type KubernetesRestClient } from '../kubernetes-rest-client.ts';

interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  type?: string;
  data?: Record<string, string>;
}

export interface KubernetesTenantSecretStoreDeps {
  rest: KubernetesRestClient;
  /** The operator's own namespace (`citadel-system`): tenants cannot read it. */
  namespace: string;
  now?: () => Date;
  /** How long a Secret read or written is answered from memory (default 5 s; 0: never). */
  cacheTtlMs?: number;
  /** The clock of the cache (tests). */
  monotonicNow?: () => number;
}

const DEFAULT_CACHE_TTL_MS = 5_000;

/** The Secret's one key: the tenant's wrapped data keys and encrypted database login. */
const DATA_KEY = 'tenant-secrets.json';
const MAX_ATTEMPTS = 5;

interface SecretDocument {
  dataKeys: Array<{ version: number; wrappedKey: string; active: boolean; createdAt: string }>;
  databaseCredentials?: {
    databaseName: string;
    roleName: string;
    passwordCiphertext: string;
    keyVersion: number;
  };
}

/** The Secret of tenant `uid`; by uid, so a tenant re-created under its slug starts afresh. */
export function tenantSecretName(uid: string): string {
  return `citadel-tenant-${uid}`;
}

function decode(secret: SecretObject | undefined): SecretDocument {
  const encoded = secret?.data?.[DATA_KEY];
  if (encoded === undefined) return { dataKeys: [] };
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as SecretDocument;
}

/**
 * The secret store of the Kubernetes operator: one Secret per tenant in the operator's
 * namespace holding the tenant's data keys (wrapped by the platform master key) and its
 * database password (encrypted with the tenant's data key) — the same ciphertexts the local
 * platform keeps in PostgreSQL, so the shared drivers work unchanged. Every change is a
 * read-modify-write guarded by the Secret's resourceVersion, retried on conflict.
 *
 * A reconcile pass reads the same Secret a dozen times (each driver observes, then again
 * after each step). What was read or written is kept for `cacheTtlMs`: the leader is the only
 * writer, its writes land in the cache, and a write refused as stale (409: someone else wrote)
 * drops the entry and reads again. An edit by hand is seen at most `cacheTtlMs` later.
 */
export function createKubernetesTenantSecretStore(
  deps: KubernetesTenantSecretStoreDeps,
): TenantSecretStore {
  const { rest, namespace } = deps;
  const now = deps.now ?? (() => new Date());
  const secretType = { apiVersion: 'v1', kind: 'Secret' };
  const path = (uid: string) => resourcePath(secretType, namespace, tenantSecretName(uid));

  const ttlMs = deps.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
  const clock = deps.monotonicNow ?? (() => performance.now());
  const cache = new Map<string, { secret: SecretObject | undefined; expiresAt: number }>();
  const remember = (uid: string, secret: SecretObject | undefined) => {
    if (ttlMs <= 0) return;
    const at = clock();
    // Expired entries go as new ones come: the map holds the tenants of the last few seconds.
    for (const [key, entry] of cache) if (entry.expiresAt <= at) cache.delete(key);
    cache.set(uid, { secret, expiresAt: at + ttlMs });
  };

  const read = async (uid: string): Promise<SecretObject | undefined> => {
    const cached = cache.get(uid);
    if (cached && cached.expiresAt > clock()) return cached.secret;
    try {
      const secret = await rest.request<SecretObject>('GET', path(uid));
      remember(uid, secret);
      return secret;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      remember(uid, undefined);
      return undefined;
    }
  };

  const write = async (
    uid: string,
    current: SecretObject | undefined,
    document: SecretDocument,
  ) => {
    const data = { [DATA_KEY]: Buffer.from(JSON.stringify(document)).toString('base64') };
    if (current === undefined) {
      const labels = { [TENANT_UID_LABEL]: uid, 'app.kubernetes.io/managed-by': MANAGED_BY };
      const body: SecretObject = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: tenantSecretName(uid), namespace, labels },
        type: 'Opaque',
        data,
      };
      remember(
        uid,
        await rest.request<SecretObject>('POST', resourcePath(secretType, namespace), { body }),
      );
      return;
    }
    // PUT with the resourceVersion read: a concurrent write makes this one fail with 409.
    remember(
      uid,
      await rest.request<SecretObject>('PUT', path(uid), { body: { ...current, data } }),
    );
  };

  /** Applies `change` to the tenant's document; `undefined` from it means nothing to write. */
  const update = async (
    uid: string,
    change: (document: SecretDocument) => SecretDocument | undefined,
  ) => {
    for (let attempt = 1; ; attempt += 1) {
      const current = await read(uid);
      const next = change(decode(current));
      if (next === undefined) return;
      try {
        await write(uid, current, next);
        return;
      } catch (error) {
        // Someone wrote in between (409 on create or on a stale resourceVersion): read again.
        cache.delete(uid);
        if (!isConflict(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  };

  return {
    async listDataKeys(tenantUid) {
      return decode(await read(tenantUid)).dataKeys.map((key) => ({
        version: key.version,
        wrappedKey: Buffer.from(key.wrappedKey, 'base64'),
        active: key.active,
        createdAt: new Date(key.createdAt),
      })) satisfies StoredDataKey[];
    },
    addDataKey(tenantUid, key) {
      return update(tenantUid, (document) => {
        if (document.dataKeys.some((existing) => existing.version === key.version))
          return undefined;
        const dataKeys = [
          ...document.dataKeys.map((existing) => ({ ...existing, active: false })),
          {
            version: key.version,
            wrappedKey: key.wrappedKey.toString('base64'),
            active: true,
            createdAt: now().toISOString(),
          },
        ];
        return { ...document, dataKeys };
      });
    },
    async deleteDataKeys(tenantUid) {
      // The keys go last (after the database login), so the whole Secret goes with them.
      cache.delete(tenantUid);
      try {
        await rest.request('DELETE', path(tenantUid));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
    async getDatabaseCredentials(tenantUid) {
      const stored = decode(await read(tenantUid)).databaseCredentials;
      if (!stored) return undefined;
      return {
        databaseName: stored.databaseName,
        roleName: stored.roleName,
        passwordCiphertext: Buffer.from(stored.passwordCiphertext, 'base64'),
        keyVersion: stored.keyVersion,
      } satisfies StoredDatabaseCredentials;
    },
    putDatabaseCredentials(tenantUid, credentials) {
      return update(tenantUid, (document) => ({
        ...document,
        databaseCredentials: {
          databaseName: credentials.databaseName,
          roleName: credentials.roleName,
          passwordCiphertext: credentials.passwordCiphertext.toString('base64'),
          keyVersion: credentials.keyVersion,
        },
      }));
    },
    deleteDatabaseCredentials(tenantUid) {
      return update(tenantUid, (document) => {
        if (!document.databaseCredentials) return undefined;
        const { databaseCredentials: _removed, ...rest } = document;
        return rest;
      });
    },
  };
}
