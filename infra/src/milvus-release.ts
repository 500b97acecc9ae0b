import * as pulumi from '@pulumi/pulumi';
import { HelmRelease } from './kubernetes-object.ts';
import { NODE_POOL_LABEL } from './node-groups.ts';
import { type MilvusScale } from './platform-config.ts';

/** The Milvus chart, pinned: an `up` never upgrades Milvus unless this line changes. */
export const MILVUS_CHART = {
  chart: 'milvus',
  version: '4.2.45',
  repo: 'https://zilliztech.github.io/milvus-helm/',
} as const;

export const MILVUS_NAMESPACE = 'citadel-milvus';
/** Milvus's gRPC port, where tenants' services and the operator reach it. */
export const MILVUS_PORT = 19530;

/**
 * Chart values for a scale: standalone (one pod, RocksMQ, one etcd, MinIO standalone) for small
 * platforms, or cluster mode with `replicas` query, data and index nodes and proxies, Pulsar and
 * three etcd members. Every component runs on the system node pool.
 */
export function milvusValues(scale: MilvusScale): Record<string, unknown> {
  const placement = { nodeSelector: { [NODE_POOL_LABEL]: 'system' } };
  if (scale.mode === 'standalone') {
    return {
      ...placement,
      cluster: { enabled: false },
      standalone: {
        messageQueue: 'rocksmq',
        persistence: { persistentVolumeClaim: { size: `${scale.storageGi}Gi` } },
      },
      etcd: { replicaCount: 1 },
      minio: { mode: 'standalone' },
      pulsarv3: { enabled: false },
      metrics: { enabled: true },
    };
  }
  const replicated = { replicas: scale.replicas };
  return {
    ...placement,
    cluster: { enabled: true },
    proxy: replicated,
    queryNode: replicated,
    dataNode: replicated,
    indexNode: replicated,
    mixCoordinator: { replicas: 2, activeStandby: { enabled: true } },
    etcd: { replicaCount: 3 },
    minio: { mode: 'distributed' },
    pulsarv3: { enabled: true },
    metrics: { enabled: true },
  };
}

export interface MilvusReleaseArgs {
  scale: MilvusScale;
  namespace: pulumi.Input<string>;
}

/** Milvus, the vector store of tenants whose plan asks for it, installed from its Helm chart. */
export class MilvusRelease extends pulumi.ComponentResource {
  /** Where tenants' services reach Milvus (gRPC). */
  readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: MilvusReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('citadel:platform:MilvusRelease', name, {}, opts);
    new HelmRelease(
      name,
      {
        name: 'milvus',
        chart: MILVUS_CHART.chart,
        version: MILVUS_CHART.version,
        repositoryOpts: { repo: MILVUS_CHART.repo },
        namespace: args.namespace,
        values: milvusValues(args.scale),
        atomic: true,
        timeout: 900,
      },
      { parent: this },
    );
    this.endpoint = pulumi.interpolate`milvus.${args.namespace}.svc.cluster.local:${MILVUS_PORT}`;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
