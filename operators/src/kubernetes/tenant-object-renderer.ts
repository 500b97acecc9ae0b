import { findPlan } from '@citadel/contracts';
import {
  createTemplateContext,
  databaseCredentialsSecret,
  MANAGED_BY,
  renderTenantManifests,
  TENANT_LABEL,
  type DatabaseCredentials,
  type ISecret,
  type TenantDataKeySet,
  type TenantManifest,
  type TenantMilvusDatabase,
  type TenantTemplateInput,
  type TenantTemplateParameters,
} from '@citadel/tenant-templates';
import type { TenantRef } from '../core/tenant-drivers.ts';

/**
 * What the platform decides about every tenant's objects on Kubernetes (image, gateway,
 * endpoints): the template parameters less the per-tenant credentials, data keys and
 * Milvus database, and with the Tenant always the controlling owner.
 */
export type KubernetesTemplateParameters = Omit<
  TenantTemplateParameters,
  'databaseCredentials' | 'dataKeys' | 'milvus' | 'ownedByTenant'
>;

/**
 * What the tenant's access Secret carries: its database login, its data keys and, for a
 * milvus tenant, its Milvus database's token.
 */
export interface TenantAccess {
  credentials: DatabaseCredentials;
  dataKeys: TenantDataKeySet;
  /** A milvus tenant's Milvus database (see `TenantMilvusAccess`); undefined for others. */
  milvus: TenantMilvusDatabase | undefined;
}

/** apiVersion and kind of one kind of object the templates render. */
export interface ObjectType {
  apiVersion: string;
  kind: string;
}

/** The isolation boundary (the namespace driver's objects), namespaced ones last. */
export const BOUNDARY_TYPES: readonly ObjectType[] = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'ResourceQuota' },
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
];

/** The data-plane services (the services driver's objects). */
export const SERVICE_TYPES: readonly ObjectType[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
];

/** The database login (the database driver's object). */
export const SECRET_TYPE: ObjectType = { apiVersion: 'v1', kind: 'Secret' };

/** Every kind the operator creates for a tenant: what it watches and prunes. */
export const TENANT_OBJECT_TYPES: readonly ObjectType[] = [
  ...BOUNDARY_TYPES,
  SECRET_TYPE,
  ...SERVICE_TYPES,
];

/** Selects every object the operator made for tenant `slug`, whatever its templates version. */
export function tenantObjectSelector(slug: string): string {
  return `${TENANT_LABEL}=${slug},app.kubernetes.io/managed-by=${MANAGED_BY}`;
}

/** Selects every object the operator made, for any tenant (the watches). */
export const MANAGED_OBJECT_SELECTOR = `${TENANT_LABEL},app.kubernetes.io/managed-by=${MANAGED_BY}`;

/**
 * Rendering the boundary and the services needs no real login nor key: the Secret is left
 * out of them and rendered on its own, by the database driver, from the login it created
 * and the keys it unwrapped. The services need the active key version only (their pods'
 * annotation).
 */
const NO_CREDENTIALS: DatabaseCredentials = {
  host: 'unused.invalid',
  port: 5432,
  database: 'unused',
  username: 'unused',
  password: 'unused',
};

function keysOfVersion(activeVersion: number): TenantDataKeySet {
  return { activeVersion, keys: [{ version: activeVersion, key: new Uint8Array(32) }] };
}

function templateInput(
  tenant: TenantRef,
  parameters: KubernetesTemplateParameters,
  access: TenantAccess,
  suspended = tenant.spec.suspended,
): TenantTemplateInput {
  const plan = findPlan(tenant.spec.plan);
  if (!plan)
    throw new Error(`tenant ${tenant.slug}: plan ${tenant.spec.plan} is not in the catalog`);
  return {
    tenant: { uid: tenant.uid, spec: { ...tenant.spec, suspended } },
    plan,
    parameters: {
      ...parameters,
      databaseCredentials: access.credentials,
      dataKeys: access.dataKeys,
      ...(access.milvus ? { milvus: access.milvus } : {}),
      ownedByTenant: true,
    },
  };
}

const isOfTypes = (types: readonly ObjectType[]) => (object: TenantManifest) =>
  types.some((type) => type.kind === object.kind && type.apiVersion === object.apiVersion);

/**
 * The isolation boundary of `tenant`: Namespace, quota, limits, identity, network policies.
 * `milvus`, a milvus tenant's Milvus database, opens its services' egress to Milvus.
 */
export function renderBoundaryObjects(
  tenant: TenantRef,
  parameters: KubernetesTemplateParameters,
  milvus: TenantMilvusDatabase | undefined,
): TenantManifest[] {
  const access = { credentials: NO_CREDENTIALS, dataKeys: keysOfVersion(1), milvus };
  return renderTenantManifests(templateInput(tenant, parameters, access)).filter(
    isOfTypes(BOUNDARY_TYPES),
  );
}

/**
 * The services of `tenant`: Deployments, Services, autoscalers, disruption budgets. With
 * `suspended` (a suspension, or a deletion stopping them first) every Deployment has no
 * replica and there is no autoscaler to bring any back. `dataKeyVersion`, the tenant's
 * active data key version, is stamped on the pods so that a rotation rolls them; `milvus`,
 * a milvus tenant's Milvus database, tells its hosts where to search (the token by
 * reference to the access Secret).
 */
export function renderServiceObjects(
  tenant: TenantRef,
  parameters: KubernetesTemplateParameters,
  options: {
    suspended: boolean;
    dataKeyVersion: number;
    milvus: TenantMilvusDatabase | undefined;
  },
): TenantManifest[] {
  const access = {
    credentials: NO_CREDENTIALS,
    dataKeys: keysOfVersion(options.dataKeyVersion),
    milvus: options.milvus,
  };
  const input = templateInput(tenant, parameters, access, options.suspended);
  return renderTenantManifests(input).filter(isOfTypes(SERVICE_TYPES));
}

/**
 * The tenant's access Secret: its database login, exactly as the database driver created
 * it, its data keys, exactly as unwrapped, and a milvus tenant's Milvus token.
 */
export function renderCredentialsSecret(
  tenant: TenantRef,
  parameters: KubernetesTemplateParameters,
  access: TenantAccess,
): ISecret {
  return databaseCredentialsSecret(
    createTemplateContext(templateInput(tenant, parameters, access)),
  );
}
