import { tenantNamespaceName } from '@citadel/tenant-templates';
import type { ObservedNamespace } from '../../core/observed-state.ts';
import type { NamespaceAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import { findDrift } from '../manifest-drift.ts';
import type { ServerSideApplier } from '../server-side-applier.ts';
import {
  BOUNDARY_TYPES,
  renderBoundaryObjects,
  type KubernetesTemplateParameters,
} from '../tenant-object-renderer.ts';
import type { TenantMilvusAccess } from './tenant-milvus-access.ts';
import { applyObjectSet, observeObjectSet } from './tenant-object-set.ts';

export interface KubernetesNamespaceDriverDeps {
  applier: ServerSideApplier;
  parameters: KubernetesTemplateParameters;
  /** A milvus tenant's Milvus database, whose port its network policy opens. */
  milvus: TenantMilvusAccess;
}

const NAMESPACED_BOUNDARY_TYPES = BOUNDARY_TYPES.filter((type) => type.kind !== 'Namespace');

/**
 * The tenant's isolation boundary on Kubernetes: its Namespace, ResourceQuota, LimitRange,
 * NetworkPolicies and the data plane's ServiceAccount, Role and RoleBinding, from the
 * tenant templates, server-side applied. Observing compares each object with what the spec
 * renders, so a deleted or edited object is reported as drift and applied again. A milvus
 * tenant's services may also reach the platform's Milvus.
 */
export function createKubernetesNamespaceDriver(
  deps: KubernetesNamespaceDriverDeps,
): ComponentDriver<ObservedNamespace, NamespaceAction> {
  const { applier, parameters, milvus } = deps;
  const render = (tenant: TenantRef) => renderBoundaryObjects(tenant, parameters, milvus(tenant));
  const scope = (tenant: TenantRef) => ({
    slug: tenant.slug,
    namespace: tenantNamespaceName(tenant.slug),
    types: NAMESPACED_BOUNDARY_TYPES,
  });

  return {
    async observe(tenant) {
      const name = tenantNamespaceName(tenant.slug);
      const namespace = await applier.read({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
      });
      // A terminating namespace is Kubernetes' to finish: it exists no more for the planner.
      if (!namespace || namespace.metadata?.deletionTimestamp !== undefined)
        return { exists: false };
      const desired = render(tenant);
      const [namespaceObject, ...namespaced] = desired;
      const { drift } = await observeObjectSet(applier, scope(tenant), namespaced);
      const namespaceDrift = findDrift(
        namespaceObject ? [namespaceObject] : [],
        new Map([[`Namespace/${name}`, namespace]]),
      );
      return { exists: true, drift: [...namespaceDrift, ...drift] };
    },
    async apply(tenant, action) {
      switch (action.type) {
        case 'ensure':
          return applyObjectSet(applier, scope(tenant), render(tenant));
        case 'remove':
          // Everything else of the tenant lives in it and goes with it.
          return applier.remove({
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: tenantNamespaceName(tenant.slug) },
          });
      }
    },
  };
}
