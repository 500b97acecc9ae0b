import { tenantNamespaceName } from '@citadel/tenant-templates';
import type { ObservedServices } from '../../core/observed-state.ts';
import type { ServicesAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import type { TenantSecretStore } from '../../core/tenant-secret-store.ts';
import type { LiveObject, ServerSideApplier } from '../server-side-applier.ts';
import {
  renderServiceObjects,
  SERVICE_TYPES,
  type KubernetesTemplateParameters,
} from '../tenant-object-renderer.ts';
import type { TenantMilvusAccess } from './tenant-milvus-access.ts';
import { applyObjectSet, observeObjectSet } from './tenant-object-set.ts';

export interface KubernetesServicesDriverDeps {
  applier: ServerSideApplier;
  parameters: KubernetesTemplateParameters;
  /** Where the tenant's active data key version is read, to stamp it on the pods. */
  secrets: TenantSecretStore;
  /** A milvus tenant's Milvus database, where its hosts are told to search. */
  milvus: TenantMilvusAccess;
}

interface DeploymentFields {
  spec?: { replicas?: number };
  status?: { availableReplicas?: number };
}

function deploymentsOf(live: Map<string, LiveObject>): DeploymentFields[] {
  return [...live.values()].filter((object) => object.kind === 'Deployment') as DeploymentFields[];
}

/**
 * `stopped` when no Deployment is there or every one is scaled to zero (suspended, or
 * stopped before a deletion's export); `running` otherwise. Running means applied and read
 * back: the operator does not wait for pods, and says so in the condition.
 */
function servicesState(deployments: DeploymentFields[]): ObservedServices['state'] {
  const scaledDown = deployments.every((deployment) => deployment.spec?.replicas === 0);
  return deployments.length === 0 || scaledDown ? 'stopped' : 'running';
}

function runningAs(deployments: DeploymentFields[]): ObservedServices['runningAs'] {
  const available = deployments.filter(
    (deployment) => (deployment.status?.availableReplicas ?? 0) > 0,
  ).length;
  return {
    reason: 'Applied',
    message:
      `${deployments.length} Deployment(s) with their Services, autoscalers and disruption ` +
      `budgets applied and read back; ${available} of them available (pod availability is ` +
      `reported, not awaited)`,
  };
}

/**
 * The tenant's data-plane services on Kubernetes: a Deployment, Service, autoscaler and
 * disruption budget per enabled service, from the tenant templates, server-side applied.
 * `start` applies them; `stop` applies them scaled to zero without autoscalers (suspension,
 * and deletion before its export). Objects of services no longer enabled, or of an older
 * templates version that no longer renders them, are pruned by label. The pods carry the
 * tenant's active data key version: a rotation is drift, and applying it rolls the pods,
 * which then read the new keys from the access Secret. A tenant without a data key has no
 * services to render: whatever runs for it is left over. A milvus tenant's hosts are told
 * its Milvus address and database, and read the token from the access Secret.
 */
export function createKubernetesServicesDriver(
  deps: KubernetesServicesDriverDeps,
): ComponentDriver<ObservedServices, ServicesAction> {
  const { applier, parameters, secrets, milvus } = deps;
  const scope = (tenant: TenantRef) => ({
    slug: tenant.slug,
    namespace: tenantNamespaceName(tenant.slug),
    types: SERVICE_TYPES,
  });
  const activeKeyVersion = async (tenant: TenantRef) =>
    (await secrets.listDataKeys(tenant.uid)).find((key) => key.active)?.version;

  return {
    async observe(tenant) {
      const dataKeyVersion = await activeKeyVersion(tenant);
      const suspended = tenant.spec.suspended;
      const desired =
        dataKeyVersion === undefined
          ? []
          : renderServiceObjects(tenant, parameters, {
              suspended,
              dataKeyVersion,
              milvus: milvus(tenant),
            });
      const { live, drift } = await observeObjectSet(applier, scope(tenant), desired);
      const deployments = deploymentsOf(live);
      const state = servicesState(deployments);
      return {
        state,
        endpoint: undefined,
        restarts: 0,
        lastError: undefined,
        drift,
        ...(state === 'running' ? { runningAs: runningAs(deployments) } : {}),
      };
    },
    async apply(tenant, action) {
      const dataKeyVersion = await activeKeyVersion(tenant);
      if (dataKeyVersion === undefined) {
        throw new Error(`tenant ${tenant.slug} has no active data key; ensure its keys first`);
      }
      const suspended = action.type === 'stop';
      const desired = renderServiceObjects(tenant, parameters, {
        suspended,
        dataKeyVersion,
        milvus: milvus(tenant),
      });
      await applyObjectSet(applier, scope(tenant), desired);
    },
  };
}
