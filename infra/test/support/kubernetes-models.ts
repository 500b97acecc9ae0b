import {
  findKubernetesObjectProblems,
  type KubernetesModelClass,
} from '@citadel/tenant-templates/validation';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

/** The kubernetes-models class of each `apiVersion/kind` the platform applies. */
const PLATFORM_MODELS = new Map<string, KubernetesModelClass>(
  [
    Namespace,
    ServiceAccount,
    ConfigMap,
    Secret,
    Service,
    Deployment,
    Ingress,
    PodDisruptionBudget,
    ClusterRole,
    ClusterRoleBinding,
    Role,
    RoleBinding,
    CustomResourceDefinition,
  ].map((model) => [`${model.apiVersion}/${model.kind}`, model]),
);

/**
 * Everything wrong with a Kubernetes object: schema violations and fields its schema does not
 * declare (the strict check shared with tenant-templates); a kind without a model is a problem.
 */
export function kubernetesObjectProblems(object: Record<string, unknown>): string[] {
  const key = `${String(object.apiVersion)}/${String(object.kind)}`;
  const model = PLATFORM_MODELS.get(key);
  if (!model) {
    return [`no schema for ${key}`];
  }
  // kubernetes-models' compiled validators leave out the `description` and `x-kubernetes-*`
  // properties JSONSchemaProps declares: allow those inside a CRD's schema only (as the
  // operator's CRD test does).
  return findKubernetesObjectProblems(object, model, {
    isDeclared: (field, path) =>
      path.includes('.openAPIV3Schema') &&
      (field === 'description' || field.startsWith('x-kubernetes-')),
  });
}
