/**
 * The Kubernetes object types the templates produce, from kubernetes-models. Type-only:
 * rendering loads none of kubernetes-models' runtime (its validators are used by
 * `validation/`, a separate entry point).
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { ILimitRange } from 'kubernetes-models/v1/LimitRange';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

export type {
  IDeployment,
  IHorizontalPodAutoscaler,
  ILimitRange,
  INamespace,
  INetworkPolicy,
  IPodDisruptionBudget,
  IResourceQuota,
  IRole,
  IRoleBinding,
  ISecret,
  IService,
  IServiceAccount,
};

export type IObjectMeta = NonNullable<INamespace['metadata']>;
export type IOwnerReference = NonNullable<IObjectMeta['ownerReferences']>[number];
export type IPodSpec = NonNullable<NonNullable<IDeployment['spec']>['template']['spec']>;
export type IContainer = IPodSpec['containers'][number];
export type INetworkPolicyPeer = NonNullable<
  NonNullable<NonNullable<INetworkPolicy['spec']>['ingress']>[number]['from']
>[number];

/** Every kind of object the templates render. */
export type TenantManifest =
  | INamespace
  | IResourceQuota
  | ILimitRange
  | IServiceAccount
  | IRole
  | IRoleBinding
  | ISecret
  | INetworkPolicy
  | IDeployment
  | IService
  | IHorizontalPodAutoscaler
  | IPodDisruptionBudget;
