import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tenantDataKeysValue } from '@citadel/tenant-templates';
import type { ObservedServices } from '../../core/observed-state.ts';
import type { ServicesAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import type { TenantSecretStore } from '../../core/tenant-secret-store.ts';
import type { HostChangeListener, HostSupervisor } from './host-supervisor.ts';
import { tenantDirectory } from './local-tenant-names.ts';
import type {
  TenantDatabaseCredentials,
  TenantDatabaseLogin,
} from './tenant-database-credentials.ts';
import { withUnwrappedKeySet, type TenantDataKeys } from './tenant-data-keys.ts';

/** Where tenant hosts reach the platform's PostgreSQL: a TCP host or a socket directory. */
export interface DatabaseServerAddress {
  host: string;
  port: number;
}

export interface LocalServicesDriverDeps {
  dataDir: string;
  adminConnection: DatabaseServerAddress;
  credentials: TenantDatabaseCredentials;
  /** Unwraps the tenant's data keys for its host's environment. */
  dataKeys: TenantDataKeys;
  /** Where the tenant's key versions are listed, to see a rotation the host has not had. */
  secrets: TenantSecretStore;
  supervisor: HostSupervisor;
  /**
   * Extra environment for every host (e.g. `NODE_OPTIONS`, the platform's token issuer and
   * JWKS URL). Read at each host start, so entries known only once the platform listens
   * may be filled in before the first start. The control plane's own environment is never
   * passed on: it holds the admin credentials.
   */
  hostEnvironment?: Readonly<Record<string, string>>;
}

/** What the gateway and the controller need from the running hosts. */
export interface LocalServicesControl {
  /** The tenant host's base URL (`http://127.0.0.1:<port>`) while it runs. */
  resolveEndpoint(slug: string): string | undefined;
  /** Stops every host; call on shutdown. */
  stopAll(): Promise<void>;
  /**
   * Calls `listener` whenever a host starts, becomes ready, crashes, restarts or stops, so
   * the controller can requeue the tenant. Returns the unsubscribe function.
   */
  onChange(listener: HostChangeListener): () => void;
}

/** What a host was started with that the spec or a key rotation can change under it. */
interface HostLaunchBasis {
  plan: string;
  services: string;
  dataKeyVersion: number;
}

function launchBasis(tenant: TenantRef, dataKeyVersion: number): HostLaunchBasis {
  return { plan: tenant.spec.plan, services: tenant.spec.services.join(','), dataKeyVersion };
}

/** What changed since the host started, as the planner's drift: a reason to start it again. */
function launchDrift(launched: HostLaunchBasis, now: HostLaunchBasis): string[] {
  const drift: string[] = [];
  if (launched.plan !== now.plan) drift.push(`plan (host has ${launched.plan})`);
  if (launched.services !== now.services) drift.push(`services (host has ${launched.services})`);
  if (launched.dataKeyVersion !== now.dataKeyVersion) {
    drift.push(`data keys (host has version ${launched.dataKeyVersion})`);
  }
  return drift;
}

/**
 * The tenant's data-plane services, run locally as one supervised host process per tenant
 * that connects with the tenant's own role to the tenant's own database, and nothing else.
 * A host that runs with an older plan, service list or data key than the tenant has now is
 * reported drifted, so the planner starts it again with the new environment (a rotation
 * thus reaches the host, which still holds every older key version).
 */
export function createLocalServicesDriver(
  deps: LocalServicesDriverDeps,
): ComponentDriver<ObservedServices, ServicesAction> {
  const { dataDir, adminConnection, credentials, dataKeys, secrets, supervisor } = deps;
  const launches = new Map<string, HostLaunchBasis>();

  const basisOf = async (tenant: TenantRef): Promise<HostLaunchBasis> => {
    const active = (await secrets.listDataKeys(tenant.uid)).find((key) => key.active);
    return launchBasis(tenant, active?.version ?? 0);
  };

  const start = async (tenant: TenantRef, directory: string) => {
    if (!(await isDirectory(directory))) {
      throw new Error(`tenant directory ${directory} does not exist; ensure the namespace first`);
    }
    const login = await credentials.read(tenant.uid);
    if (!login) {
      throw new Error(`tenant ${tenant.slug} has no database credentials; ensure its role first`);
    }
    const { value, activeVersion } = await withUnwrappedKeySet(dataKeys, tenant.uid, (keySet) => ({
      value: tenantDataKeysValue(keySet),
      activeVersion: keySet.activeVersion,
    }));
    await supervisor.start({
      tenantUid: tenant.uid,
      slug: tenant.slug,
      directory,
      environment: {
        // V8's code cache, shared by all hosts: roughly halves a host's start time.
        NODE_COMPILE_CACHE: join(dataDir, 'cache', 'node-compile'),
        ...deps.hostEnvironment,
        ...hostEnvironmentFor(tenant, {
          databaseUrl: tenantDatabaseUrl(adminConnection, login),
          dataKeys: value,
        }),
      },
    });
    launches.set(tenant.uid, launchBasis(tenant, activeVersion));
  };

  return {
    async observe(tenant) {
      const status = supervisor.status(tenant.slug, tenant.uid);
      const launched = launches.get(tenant.uid);
      if (status.state === 'stopped' || !launched) return status;
      const drift = launchDrift(launched, await basisOf(tenant));
      return drift.length > 0 ? { ...status, drift } : status;
    },
    async apply(tenant, action) {
      const directory = tenantDirectory(dataDir, tenant.slug);
      switch (action.type) {
        case 'start':
          await start(tenant, directory);
          return;
        case 'stop':
          launches.delete(tenant.uid);
          await supervisor.stop(tenant.slug, directory);
          return;
      }
    },
  };
}

/** The tenant's secrets a host is handed, in its environment and nowhere else. Never log them. */
export interface HostSecrets {
  /** {@link tenantDatabaseUrl}: the tenant's own role on its own database. */
  databaseUrl: string;
  /** The tenant's data keys, as `tenantDataKeysValue` encodes them. */
  dataKeys: string;
}

/** The variables `host-main.ts` and the services (`readTenantDataCipher`) read. */
export function hostEnvironmentFor(
  tenant: TenantRef,
  secrets: HostSecrets,
): Record<string, string> {
  return {
    CITADEL_TENANT_SLUG: tenant.slug,
    CITADEL_TENANT_ID: tenant.uid,
    CITADEL_TENANT_PLAN: tenant.spec.plan,
    CITADEL_TENANT_DATABASE_URL: secrets.databaseUrl,
    CITADEL_TENANT_DATA_KEYS: secrets.dataKeys,
    CITADEL_SERVICES: tenant.spec.services.join(','),
    PORT: '0',
  };
}

/** `postgresql://role:password@host:port/database`; a socket directory goes in `?host=`. */
export function tenantDatabaseUrl(
  server: DatabaseServerAddress,
  login: TenantDatabaseLogin,
): string {
  const user = `${encodeURIComponent(login.roleName)}:${encodeURIComponent(login.password)}`;
  const database = encodeURIComponent(login.databaseName);
  if (server.host.startsWith('/')) {
    // The URL needs some host; pg lets the `host` parameter override it.
    return `postgresql://${user}@localhost:${server.port}/${database}?host=${encodeURIComponent(server.host)}`;
  }
  // `new URL(…).hostname` keeps an IPv6 address's brackets; a bare address needs them.
  const bare = server.host.replace(/^\[(.*)\]$/, '$1');
  const host = bare.includes(':') ? `[${bare}]` : bare;
  return `postgresql://${user}@${host}:${server.port}/${database}`;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
