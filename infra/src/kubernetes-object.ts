import * as pulumi from '@pulumi/pulumi';
import { type IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

/**
 * The version of the Pulumi Kubernetes provider (`pulumi-resource-kubernetes`) the engine runs for
 * every Kubernetes object here. The `@pulumi/kubernetes` npm package is not used: its install script
 * runs `pulumi plugin install`, and no install step of this project may download a binary
 * (docs/adr/0013-infrastructure-with-pulumi.md). The engine fetches the provider when it deploys.
 */
export const KUBERNETES_PROVIDER_VERSION = '4.34.2';

/** apiVersion and kind, which every Kubernetes object has and which name its Pulumi type. */
export interface KubernetesTypeMeta {
  apiVersion: string;
  kind: string;
}

/**
 * A Kubernetes object's fields, each of which may be a Pulumi input: `metadata` can wait on an IAM
 * role's ARN while `apiVersion` and `kind` stay plain, so the object's name is known in previews.
 */
export type KubernetesObjectInputs<T extends KubernetesTypeMeta> = {
  [K in keyof T]: K extends 'apiVersion' | 'kind' ? T[K] : pulumi.Input<T[K]>;
};

/**
 * The Pulumi type token of a Kubernetes kind, as the Kubernetes provider names it:
 * `v1` Namespace → `kubernetes:core/v1:Namespace`, `apps/v1` Deployment → `kubernetes:apps/v1:Deployment`.
 */
export function kubernetesTypeToken(meta: KubernetesTypeMeta): string {
  const slash = meta.apiVersion.indexOf('/');
  const group = slash === -1 ? 'core' : meta.apiVersion.slice(0, slash);
  const version = slash === -1 ? meta.apiVersion : meta.apiVersion.slice(slash + 1);
  return `kubernetes:${group}/${version}:${meta.kind}`;
}

/**
 * One Kubernetes object applied by the Pulumi Kubernetes provider (server-side apply). The object is
 * typed by its kubernetes-models interface, so a misspelt field fails `tsc`, and tests validate the
 * inputs against the same model's schema.
 */
export class KubernetesObject<T extends KubernetesTypeMeta> extends pulumi.CustomResource {
  declare readonly metadata: pulumi.Output<IObjectMeta>;

  constructor(name: string, object: KubernetesObjectInputs<T>, opts: pulumi.CustomResourceOptions) {
    super(
      kubernetesTypeToken(object),
      name,
      { ...object },
      {
        version: KUBERNETES_PROVIDER_VERSION,
        ...opts,
      },
    );
  }
}

/** The Kubernetes provider for one cluster, reached through its kubeconfig. */
export class KubernetesProvider extends pulumi.ProviderResource {
  constructor(name: string, kubeconfig: pulumi.Input<string>, opts: pulumi.ResourceOptions) {
    super('kubernetes', name, { kubeconfig }, { version: KUBERNETES_PROVIDER_VERSION, ...opts });
  }
}

/** The inputs of a Helm v3 release, as the Kubernetes provider's `helm.sh/v3:Release` takes them. */
export interface HelmReleaseArgs {
  /** The release's name in the cluster. */
  name: string;
  chart: string;
  /** An exact chart version: never a range, so an `up` never upgrades by surprise. */
  version: string;
  repositoryOpts: { repo: string };
  namespace: pulumi.Input<string>;
  values: pulumi.Input<Record<string, unknown>>;
  /** Roll back a failed upgrade. */
  atomic: boolean;
  /** Seconds to wait for the release's resources to be ready. */
  timeout: number;
}

/** A Helm chart installed through the Kubernetes provider's Release resource. */
export class HelmRelease extends pulumi.CustomResource {
  declare readonly status: pulumi.Output<Record<string, unknown>>;

  constructor(name: string, args: HelmReleaseArgs, opts: pulumi.CustomResourceOptions) {
    super(
      'kubernetes:helm.sh/v3:Release',
      name,
      { ...args, status: undefined },
      {
        version: KUBERNETES_PROVIDER_VERSION,
        ...opts,
      },
    );
  }
}
