import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { TenantManifest } from '../kubernetes-types.ts';
import {
  findKubernetesObjectProblems,
  type KubernetesModelClass,
} from './kubernetes-object-problems.ts';

/** The kubernetes-models class of each `apiVersion/kind` the templates render. */
export const TENANT_MANIFEST_MODELS: ReadonlyMap<string, KubernetesModelClass> = new Map<
  string,
  KubernetesModelClass
>(
  [
    Namespace,
    ResourceQuota,
    LimitRange,
    ServiceAccount,
    Role,
    RoleBinding,
    Secret,
    NetworkPolicy,
    Deployment,
    Service,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
  ].map((model) => [`${model.apiVersion}/${model.kind}`, model]),
);

/**
 * Everything wrong with a rendered manifest (see `findKubernetesObjectProblems`); a kind
 * the templates do not render is itself a problem. For drivers to check before applying.
 */
export function findTenantManifestProblems(manifest: TenantManifest): string[] {
  const model = TENANT_MANIFEST_MODELS.get(`${manifest.apiVersion}/${manifest.kind}`);
  if (!model) return [`no schema for ${manifest.apiVersion}/${manifest.kind}`];
  return findKubernetesObjectProblems(manifest, model);
}
