import * as pulumi from '@pulumi/pulumi';
import { type ICustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import {
  KubernetesObject,
  type KubernetesObjectInputs,
  type KubernetesTypeMeta,
} from './kubernetes-object.ts';
import {
  clusterRoleBindingManifest,
  clusterRoleManifest,
  CONTROL_PLANE_RULES,
  deploymentManifest,
  ingressManifest,
  leaderElectionRoleBindingManifest,
  leaderElectionRoleManifest,
  namespaceManifest,
  OPERATOR_RULES,
  type PlatformComponent,
  platformConfigMapManifest,
  platformSecretManifest,
  podDisruptionBudgetManifest,
  serviceAccountManifest,
  serviceManifest,
  SYSTEM_NAMESPACE,
  type WorkloadSpec,
} from './platform-manifests.ts';

/** The ports the platform's processes listen on. */
export const PLATFORM_PORTS: Record<PlatformComponent, number> = {
  'control-plane': 8080,
  operator: 8081,
};

export interface PlatformWorkloadsArgs {
  provider: pulumi.ProviderResource;
  tenantCrd: ICustomResourceDefinition;
  images: Record<PlatformComponent, string>;
  replicas: Record<PlatformComponent, number>;
  /** The IAM role each component's service account assumes (IRSA). */
  roleArns: Record<PlatformComponent, pulumi.Input<string>>;
  ingress: { host: string; ingressClassName: string; tlsSecretName: string };
  /** Non-secret environment of the platform pods. */
  environment: pulumi.Input<Record<string, string>>;
  /** Secret environment: `DATABASE_URL`, `REDIS_URL`, `CITADEL_ADMIN_TOKEN`. */
  secretEnvironment: pulumi.Input<Record<string, string>>;
}

const RESOURCES: Record<PlatformComponent, WorkloadSpec['resources']> = {
  'control-plane': { cpu: '500m', memory: '1Gi' },
  operator: { cpu: '250m', memory: '512Mi' },
};

/**
 * Citadel on its cluster: the `citadel-system` namespace (restricted pod security), the Tenant
 * CRD, the control plane and operator (Deployments, IRSA service accounts, Services,
 * PodDisruptionBudgets), the operator's least-privilege RBAC, and the TLS Ingress.
 */
export class PlatformWorkloads extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  private readonly kubernetesProvider: pulumi.ProviderResource;

  constructor(name: string, args: PlatformWorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:PlatformWorkloads', name, {}, opts);
    this.kubernetesProvider = args.provider;
    const namespace = this.applyObject(
      `${name}-namespace`,
      namespaceManifest(SYSTEM_NAMESPACE, 'restricted'),
    );
    const crd = this.applyObject(`${name}-tenant-crd`, args.tenantCrd);
    const inNamespace = { dependsOn: [namespace] };
    const environment = [
      this.applyObject(
        `${name}-environment`,
        { ...platformConfigMapManifest({}), data: args.environment },
        inNamespace,
      ),
      this.applyObject(
        `${name}-secret-environment`,
        {
          ...platformSecretManifest({}),
          stringData: pulumi.secret(pulumi.output(args.secretEnvironment)),
        },
        inNamespace,
      ),
    ];
    for (const component of ['control-plane', 'operator'] as const) {
      this.component(`${name}-${component}`, component, args, [namespace, crd, ...environment]);
    }
    this.applyObject(`${name}-operator-leader-election`, leaderElectionRoleManifest(), inNamespace);
    this.applyObject(
      `${name}-operator-leader-election`,
      leaderElectionRoleBindingManifest(),
      inNamespace,
    );
    this.applyObject(`${name}-ingress`, ingressManifest(args.ingress), inNamespace);
    this.namespace = pulumi.output(SYSTEM_NAMESPACE);
    this.registerOutputs({ namespace: this.namespace });
  }

  /** One component: its RBAC, service account, Deployment, Service and PodDisruptionBudget. */
  private component(
    name: string,
    component: PlatformComponent,
    args: PlatformWorkloadsArgs,
    dependsOn: pulumi.Resource[],
  ): void {
    const rules = component === 'operator' ? OPERATOR_RULES : CONTROL_PLANE_RULES;
    const role = this.applyObject(name, clusterRoleManifest(component, rules));
    const binding = this.applyObject(name, clusterRoleBindingManifest(component), {
      dependsOn: [role],
    });
    const serviceAccount = this.applyObject(
      name,
      {
        ...serviceAccountManifest(component, ''),
        metadata: pulumi
          .output(args.roleArns[component])
          .apply((roleArn) => serviceAccountManifest(component, roleArn).metadata),
      },
      { dependsOn },
    );
    const port = PLATFORM_PORTS[component];
    this.applyObject(
      name,
      deploymentManifest({
        component,
        image: args.images[component],
        replicas: args.replicas[component],
        port,
        resources: RESOURCES[component],
      }),
      { dependsOn: [...dependsOn, serviceAccount, binding] },
    );
    this.applyObject(name, serviceManifest(component, port), { dependsOn });
    this.applyObject(name, podDisruptionBudgetManifest(component), { dependsOn });
  }

  /** Applies one object through the cluster's provider, as a child of this component. */
  private applyObject<T extends KubernetesTypeMeta>(
    name: string,
    object: KubernetesObjectInputs<T>,
    opts: pulumi.CustomResourceOptions = {},
  ): KubernetesObject<T> {
    return new KubernetesObject<T>(`${name}-${object.kind.toLowerCase()}`, object, {
      ...opts,
      parent: this,
      provider: this.kubernetesProvider,
    });
  }
}
