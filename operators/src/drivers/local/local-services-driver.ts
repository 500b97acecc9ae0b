import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObservedServices } from '../../core/observed-state.ts';
import type { ServicesAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import type { HostChangeListener, HostSupervisor } from './host-supervisor.ts';
import { tenantDirectory } from './local-tenant-names.ts';
import type {
  TenantDatabaseCredentials,
  TenantDatabaseLogin,
} from './tenant-database-credentials.ts';

/** Where tenant hosts reach the platform's PostgreSQL: a TCP host or a socket directory. */
export interface DatabaseServerAddress {
  host: string;
  port: number;
}

export interface LocalServicesDriverDeps {
  dataDir: string;
  adminConnection: DatabaseServerAddress;
  credentials: TenantDatabaseCredentials;
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

/**
 * The tenant's data-plane services, run locally as one supervised host process per tenant
 * that connects with the tenant's own role to the tenant's own database, and nothing else.
 */
export function createLocalServicesDriver(
  deps: LocalServicesDriverDeps,
): ComponentDriver<ObservedServices, ServicesAction> {
  const { dataDir, adminConnection, credentials, supervisor } = deps;
  return {
    observe: (tenant) => Promise.resolve(supervisor.status(tenant.slug, tenant.uid)),
    async apply(tenant, action) {
      const directory = tenantDirectory(dataDir, tenant.slug);
      switch (action.type) {
        case 'start': {
          if (!(await isDirectory(directory))) {
            throw new Error(
              `tenant directory ${directory} does not exist; ensure the namespace first`,
            );
          }
          const login = await credentials.read(tenant.uid);
          if (!login) {
            throw new Error(
              `tenant ${tenant.slug} has no database credentials; ensure its role first`,
            );
          }
          await supervisor.start({
            tenantUid: tenant.uid,
            slug: tenant.slug,
            directory,
            environment: {
              // V8's code cache, shared by all hosts: roughly halves a host's start time.
              NODE_COMPILE_CACHE: join(dataDir, 'cache', 'node-compile'),
              ...deps.hostEnvironment,
              ...hostEnvironmentFor(tenant, tenantDatabaseUrl(adminConnection, login)),
            },
          });
          return;
        }
        case 'stop':
          await supervisor.stop(tenant.slug, directory);
          return;
      }
    },
  };
}

/** The variables `host-main.ts` reads. */
export function hostEnvironmentFor(tenant: TenantRef, databaseUrl: string): Record<string, string> {
  return {
    CITADEL_TENANT_SLUG: tenant.slug,
    CITADEL_TENANT_ID: tenant.uid,
    CITADEL_TENANT_DATABASE_URL: databaseUrl,
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
