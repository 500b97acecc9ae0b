import {
  databaseCredentialsSecret,
  dataPlaneRole,
  dataPlaneRoleBinding,
  dataPlaneServiceAccount,
} from './access-manifests.ts';
import type { TenantManifest } from './kubernetes-types.ts';
import { tenantLimitRange, tenantNamespace, tenantResourceQuota } from './namespace-manifests.ts';
import { tenantNetworkPolicies } from './network-policy-manifests.ts';
import {
  serviceAutoscaler,
  serviceDeployment,
  serviceDisruptionBudget,
  serviceService,
} from './service-manifests.ts';
import { createTemplateContext, type TemplateContext } from './template-context.ts';
import type { TenantTemplateInput } from './tenant-template-input.ts';

function serviceManifests(context: TemplateContext): TenantManifest[] {
  const suspended = context.tenant.spec.suspended;
  return context.sizing.services.flatMap((sizing) => [
    serviceDeployment(context, sizing),
    serviceService(context, sizing),
    // A suspended tenant runs no pod: an autoscaler would bring them back.
    ...(suspended ? [] : [serviceAutoscaler(context, sizing)]),
    serviceDisruptionBudget(context, sizing),
  ]);
}

/**
 * Every Kubernetes object of a tenant's data plane, in the order to apply them: the
 * Namespace, its quota and limits, identity and secrets, the network policies
 * (default-deny first), then each enabled service. A pure function of its input: the same
 * input renders the same objects, byte for byte. Throws `TenantTemplateError` on input
 * that cannot describe a valid data plane.
 */
export function renderTenantManifests(input: TenantTemplateInput): TenantManifest[] {
  const context = createTemplateContext(input);
  return [
    tenantNamespace(context),
    tenantResourceQuota(context),
    tenantLimitRange(context),
    dataPlaneServiceAccount(context),
    dataPlaneRole(context),
    dataPlaneRoleBinding(context),
    databaseCredentialsSecret(context),
    ...tenantNetworkPolicies(context),
    ...serviceManifests(context),
  ];
}
