import type { PlanDefinition, TenantSpec } from '@citadel/contracts';

/** The part of a Tenant resource the templates read. */
export interface TemplateTenant {
  /** `metadata.uid` of the Tenant: stamped on every object, and its owner reference. */
  uid: string;
  spec: TenantSpec;
}

/** A container image; the tag is required so that a rollout is always a deliberate change. */
export interface ContainerImage {
  /** e.g. `registry.example.com/citadel/data-plane` */
  repository: string;
  /** e.g. `1.4.2`; `latest` is refused. */
  tag: string;
}

/**
 * Where a platform endpoint lives, as a NetworkPolicy peer: an IP block (a managed
 * database outside the cluster) or pods in a namespace (an in-cluster service).
 */
export type NetworkDestination =
  { cidr: string } | { namespace: string; podLabels?: Readonly<Record<string, string>> };

/** A platform endpoint the tenant's services may reach (database, vector store, token keys). */
export interface PlatformEndpoint {
  /** A DNS-1123 label naming the endpoint, e.g. `database`. */
  name: string;
  /** TCP port. */
  port: number;
  destination: NetworkDestination;
}

/**
 * The tenant's database login, created by the database driver. The templates only
 * carry these values into a Secret: they never invent one.
 */
export interface DatabaseCredentials {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** libpq `sslmode`; `verify-full` unless the platform says otherwise. */
  sslMode?: 'disable' | 'require' | 'verify-ca' | 'verify-full';
}

/** One of the tenant's data keys, unwrapped by the operator. */
export interface TenantDataKey {
  /** A positive integer; a rotation adds the next one. */
  version: number;
  /** The 256-bit AES key. */
  key: Uint8Array;
}

/**
 * The tenant's data keys, unwrapped from the platform master key by the operator: every
 * version the tenant has, so that its services still decrypt what an older version
 * encrypted, and the active one they encrypt with. The templates only carry them into a
 * Secret: they never invent one.
 */
export interface TenantDataKeySet {
  activeVersion: number;
  keys: readonly TenantDataKey[];
}

/**
 * The tenant's own Milvus database, for a tenant whose vector engine is milvus: where its
 * services dial Milvus and how their egress reaches it, the database the operator created for
 * it, and the platform's token. The templates only carry these values into the pods, the
 * access Secret and the network policy: they never invent one.
 */
export interface TenantMilvusDatabase {
  /** Where the services' Milvus client dials: `host:port`, as the operator dials it. */
  address: string;
  /** Milvus's port and where it lives, as a NetworkPolicy peer. */
  egress: { port: number; destination: NetworkDestination };
  /** The tenant's database, exactly as the operator's Milvus driver named it. */
  database: string;
  /** Carried into the access Secret only, never into a pod spec; absent where Milvus asks none. */
  token?: string;
}

/** What the platform, not the tenant, decides about a tenant's data plane. */
export interface TenantTemplateParameters {
  /** The data-plane host image; each service runs it with `CITADEL_SERVICES=<service>`. */
  image: ContainerImage;
  /** The platform gateway: the only source of ingress into the tenant's namespace. */
  gateway: { namespace: string; podLabels?: Readonly<Record<string, string>> };
  /** Egress the services get besides DNS and each other. */
  platformEndpoints: readonly PlatformEndpoint[];
  databaseCredentials: DatabaseCredentials;
  /** Carried into the access Secret; the active version also stamps the service pods. */
  dataKeys: TenantDataKeySet;
  /**
   * The tenant's Milvus database: given for a tenant whose vector engine is milvus, refused
   * for any other. Without it a milvus tenant's services get no Milvus settings.
   */
  milvus?: TenantMilvusDatabase;
  /** Where hosts fetch the platform's token keys; without it hosts answer health checks only. */
  tokenIssuer?: { issuer: string; jwksUrl: string };
  /** The cluster DNS; defaults to `kube-system` pods labelled `k8s-app=kube-dns`. */
  dns?: { namespace: string; podLabels: Readonly<Record<string, string>> };
  /**
   * Make the Tenant custom resource the controller owner of every object, so that the
   * garbage collector removes them with it. Off where tenants live outside Kubernetes.
   */
  ownedByTenant: boolean;
  /** Names of image pull Secrets in the tenant namespace. */
  imagePullSecrets?: readonly string[];
}

/** Everything a tenant's manifests are a function of. */
export interface TenantTemplateInput {
  tenant: TemplateTenant;
  /** The plan named by `tenant.spec.plan`, from the plan catalog. */
  plan: PlanDefinition;
  parameters: TenantTemplateParameters;
}
