import * as pulumi from '@pulumi/pulumi';
import { type ICustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import {
  KubernetesObject,
  type KubernetesObjectInputs,
  type KubernetesTypeMeta,
} from './kubernetes-object.ts';
import {
  clusterRoleBindingManifest,
  clusterRoleManifest,
  type ComponentContainer,
  CONTROL_PLANE_CONTAINER,
  CONTROL_PLANE_RULES,
  deploymentManifest,
  ingressManifest,
  leaderElectionRoleBindingManifest,
  leaderElectionRoleManifest,
  masterKeySecretManifest,
  namespaceManifest,
  operatorContainer,
  type OperatorSettings,
  OPERATOR_RULES,
  type PlatformComponent,
  platformConfigMapManifest,
  PLATFORM_PORTS,
  platformSecretManifest,
  podDisruptionBudgetManifest,
  serviceAccountManifest,
  serviceManifest,
  SYSTEM_NAMESPACE,
  type WorkloadSpec,
} from './platform-manifests.ts';

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
  /** The operator's settings that differ between platforms (instance id, images, addresses). */
  operator: pulumi.Input<OperatorSettings>;
  /** The platform master key: 32 bytes, base64 (`citadel:masterKey`). */
  masterKey: pulumi.Input<string>;
}

const RESOURCES: Record<PlatformComponent, WorkloadSpec['resources']> = {
  'control-plane': { cpu: '500m', memory: '1Gi' },
  operator: { cpu: '250m', memory: '512Mi' },
};

/**
 * Citadel on its cluster: the `citadel-system` namespace (restricted pod security), the Tenant
 * CRD, the control plane and operator (Deployments, IRSA service accounts, Services,
 * PodDisruptionBudgets), the operator's least-privilege RBAC and the platform master key it
 * mounts, and the TLS Ingress.
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
    // What the pods read: the shared environment, and the operator's master key.
    const environment = [
      this.applyObject(
        `${name}-master-key`,
        {
          ...masterKeySecretManifest(''),
          data: pulumi.secret(
            pulumi.output(args.masterKey).apply((key) => masterKeySecretManifest(key).data ?? {}),
          ),
        },
        inNamespace,
      ),
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
    this.applyObject(name, deploymentInputs(component, args), {
      dependsOn: [...dependsOn, serviceAccount, binding],
    });
    this.applyObject(name, serviceManifest(component, PLATFORM_PORTS[component]), { dependsOn });
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

/** A component's Deployment; the operator's waits on its settings (the database's address). */
function deploymentInputs(
  component: PlatformComponent,
  args: PlatformWorkloadsArgs,
): KubernetesObjectInputs<IDeployment> {
  const workload = (container: ComponentContainer): WorkloadSpec => ({
    component,
    image: args.images[component],
    replicas: args.replicas[component],
    port: PLATFORM_PORTS[component],
    resources: RESOURCES[component],
    container,
  });
  if (component === 'control-plane') return deploymentManifest(workload(CONTROL_PLANE_CONTAINER));
  const manifest = pulumi
    .output(args.operator)
    .apply((settings) => deploymentManifest(workload(operatorContainer(settings))));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: manifest.apply((deployment) => deployment.metadata),
    spec: manifest.apply((deployment) => deployment.spec),
  };
}
