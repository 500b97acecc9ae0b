/**
 * What the drivers report about a tenant's resources. The planner reads only these
 * shapes, so a Kubernetes driver and a local driver plug into the same plan.
 */
export interface ObservedNamespace {
  exists: boolean;
  /**
   * Objects of the isolation boundary that are missing or differ from what the spec renders
   * (e.g. `ResourceQuota/tenant-quota`). Drivers that keep more than one object (Kubernetes)
   * report it, so the planner re-applies them; absent means nothing to report.
   */
  drift?: readonly string[];
}

export interface ObservedDataKeyVersion {
  version: number;
  /** Only the active version encrypts; the others stay for decryption. */
  active: boolean;
  createdAt: Date;
}

/** A key held by a cloud KMS for the tenant (the Kubernetes platform's Pulumi tenant stack). */
export interface ObservedCloudKey {
  /** `absent`: no such key; `outdated`: it exists but differs from the spec; `ready`. */
  state: 'absent' | 'outdated' | 'ready';
  message: string;
}

export interface ObservedKeys {
  versions: ObservedDataKeyVersion[];
  /** Only where the platform keeps a cloud key per tenant; absent on the local platform. */
  cloudKey?: ObservedCloudKey;
}

export interface ObservedDatabase {
  roleExists: boolean;
  /** The role's password is stored (encrypted) where the services can read it. */
  credentialsStored: boolean;
  databaseExists: boolean;
  /** CONNECT on the database is revoked from PUBLIC: only the tenant's role may connect. */
  publicConnectRevoked: boolean;
  /** The role may log in (it may not while the tenant is suspended). */
  loginAllowed: boolean;
}

export interface ObservedVectorStore {
  ready: boolean;
  /**
   * `pgvector` when the extension is installed, `exact` when the services search exactly,
   * `milvus` when the tenant's vectors live in a Milvus database of their own.
   */
  engine: 'pgvector' | 'exact' | 'milvus' | undefined;
}

export interface ObservedServices {
  state: 'running' | 'starting' | 'stopped' | 'crashed';
  /** The host's internal base URL, e.g. `http://127.0.0.1:41234`, while running. */
  endpoint: string | undefined;
  restarts: number;
  /** Why the host last stopped unexpectedly. */
  lastError: string | undefined;
  /** Objects that are missing or differ from what the spec renders (Kubernetes drivers). */
  drift?: readonly string[];
  /**
   * How the driver describes `running`, when it means something narrower than serving: the
   * Kubernetes driver reports its objects applied and read back, not pods available.
   */
  runningAs?: { reason: string; message: string };
}

export interface ObservedGpuPool {
  /** Whether the platform can give this tenant GPU nodes at all. */
  available: boolean;
  ready: boolean;
  /** Machine-readable reason when not ready, e.g. `NoGpuOnHost`. */
  reason: string;
  message: string;
}

/**
 * A complete export of the tenant's data, which deletion takes before it removes anything.
 * Only a finished export counts: one interrupted half-way is not observed at all.
 */
export interface ObservedDataExport {
  completed: boolean;
  /** Where the finished export is (a directory locally, an object URL in a cloud). */
  location: string | undefined;
}

export interface ObservedTenant {
  namespace: ObservedNamespace;
  keys: ObservedKeys;
  database: ObservedDatabase;
  vectorStore: ObservedVectorStore;
  services: ObservedServices;
  gpuPool: ObservedGpuPool;
  dataExport: ObservedDataExport;
}

/** What the drivers report for a tenant of which nothing exists yet (or anymore). */
export function nothingObserved(): ObservedTenant {
  return {
    namespace: { exists: false },
    keys: { versions: [] },
    database: {
      roleExists: false,
      credentialsStored: false,
      databaseExists: false,
      publicConnectRevoked: false,
      loginAllowed: false,
    },
    vectorStore: { ready: false, engine: undefined },
    services: { state: 'stopped', endpoint: undefined, restarts: 0, lastError: undefined },
    gpuPool: {
      available: false,
      ready: false,
      reason: 'NoGpuOnHost',
      message: 'no GPU on this host',
    },
    dataExport: { completed: false, location: undefined },
  };
}
