import { TENANT_API_VERSION, TENANT_KIND } from '@citadel/contracts';
import type { IOwnerReference } from './kubernetes-types.ts';
import { TEMPLATES_VERSION, TEMPLATES_VERSION_LABEL } from './templates-version.ts';
import type { TemplateTenant } from './tenant-template-input.ts';

export const TENANT_LABEL = 'citadel.azora.dev/tenant';
export const TENANT_UID_LABEL = 'citadel.azora.dev/tenant-uid';
export const PLAN_LABEL = 'citadel.azora.dev/plan';
export const PART_OF = 'citadel';
export const MANAGED_BY = 'citadel-operator';

/** `app.kubernetes.io/name` of the objects that belong to the tenant as a whole. */
export const TENANT_APP_NAME = 'citadel-tenant';

/** `app.kubernetes.io/component` of the data-plane service pods. */
export const DATA_PLANE_COMPONENT = 'data-plane-service';

/** The namespace a tenant's data plane lives in. */
export function tenantNamespaceName(slug: string): string {
  return `tenant-${slug}`;
}

/** What an object is, in the `app.kubernetes.io` vocabulary. */
export interface AppIdentity {
  /** `app.kubernetes.io/name`: a service name, or {@link TENANT_APP_NAME}. */
  name: string;
  component?: string;
}

/**
 * The labels a selector may use: stable for the life of the tenant. The templates version
 * and the plan are never among them, so that a new version or plan does not change a
 * Deployment's (immutable) selector.
 */
export function selectorLabels(tenant: TemplateTenant, app: AppIdentity): Record<string, string> {
  return {
    'app.kubernetes.io/name': app.name,
    'app.kubernetes.io/instance': tenant.spec.slug,
  };
}

/** Every label every object of the tenant carries. */
export function tenantLabels(tenant: TemplateTenant, app: AppIdentity): Record<string, string> {
  return {
    ...selectorLabels(tenant, app),
    ...(app.component === undefined ? {} : { 'app.kubernetes.io/component': app.component }),
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [TENANT_LABEL]: tenant.spec.slug,
    [TENANT_UID_LABEL]: tenant.uid,
    [PLAN_LABEL]: tenant.spec.plan,
    [TEMPLATES_VERSION_LABEL]: TEMPLATES_VERSION,
  };
}

/**
 * The Tenant as controller owner. The Tenant is cluster-scoped, which Kubernetes allows as
 * the owner of both cluster-scoped (the Namespace) and namespaced objects.
 */
export function tenantOwnerReferences(tenant: TemplateTenant): IOwnerReference[] {
  return [
    {
      apiVersion: TENANT_API_VERSION,
      kind: TENANT_KIND,
      name: tenant.spec.slug,
      uid: tenant.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}
