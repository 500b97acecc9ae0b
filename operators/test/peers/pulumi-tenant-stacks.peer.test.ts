import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { automation } from '@pulumi/pulumi';
import { KubernetesObject, KubernetesProvider } from '@citadel/infra';
import type { TenantSpec } from '@citadel/contracts';
import {
  KUBE_API_SERVER_PEERS,
  peerSuite,
  pulumiPeer,
  startKubeApiServer,
  type KubeApiServer,
  type PulumiPeer,
} from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantRef } from '../../src/core/tenant-drivers.ts';
import { createLocalKeyRing } from '../../src/drivers/local/local-key-ring.ts';
import { createLocalKeysDriver } from '../../src/drivers/local/local-keys-driver.ts';
import { createKubernetesTenantSecretStore } from '../../src/kubernetes/drivers/kubernetes-tenant-secret-store.ts';
import { createPulumiCloudDrivers } from '../../src/kubernetes/drivers/pulumi-cloud-drivers.ts';
import { createPulumiTenantStacks } from '../../src/kubernetes/drivers/pulumi-tenant-stacks.ts';
import {
  createKubernetesClients,
  kubeConfigFromString,
} from '../../src/kubernetes/kubernetes-clients.ts';
import { createJsonLinesLogger } from '../../src/kubernetes/json-lines-logger.ts';
import { readObject, serverSideApply, tenantSpec } from './operator-peer-fixture.ts';

const suite = peerSuite('the Pulumi tenant-stack drivers on the real Pulumi engine', [
  ...KUBE_API_SERVER_PEERS,
  'pulumi',
  'pulumi-language-nodejs',
  'pulumi-resource-kubernetes',
]);

const NAMESPACE = 'citadel-cloud';
const CONFIG_MAP = { apiVersion: 'v1', kind: 'ConfigMap' };

/**
 * The stack's program with AWS left out (no AWS here): what the real program makes as a KMS
 * key and a node group, this one makes as two ConfigMaps through the real Kubernetes
 * provider, with the same outputs (`keyAlias`, `gpuNodeGroupName`). The operator's side —
 * one stack per tenant, LocalWorkspace, inline program, file backend, spec digest, update,
 * GPU pool removed by an update, destroy and stack removal — is the production code.
 */
function kubernetesOnlyProgram(kubeconfig: string, providerVersion: string) {
  return (spec: TenantSpec) => () => {
    const provider = new KubernetesProvider('cluster', kubeconfig, { version: providerVersion });
    const options = { provider, version: providerVersion };
    const key = new KubernetesObject(
      'key',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${spec.slug}-key`, namespace: NAMESPACE },
        data: { rotationDays: String(spec.resources.keys.rotationDays) },
      },
      options,
    );
    const gpu = spec.resources.gpuPool.enabled
      ? new KubernetesObject(
          'gpu',
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `${spec.slug}-gpu`, namespace: NAMESPACE },
            data: { instanceType: spec.resources.gpuPool.instanceType },
          },
          options,
        )
      : undefined;
    return Promise.resolve({
      keyAlias: key.metadata.apply((metadata) => metadata.name ?? ''),
      ...(gpu ? { gpuNodeGroupName: gpu.metadata.apply((metadata) => metadata.name ?? '') } : {}),
    });
  };
}

describe.skipIf(suite.skip)(suite.title, () => {
  let server: KubeApiServer;
  let peer: PulumiPeer;
  let dataDir: string;
  let drivers: ReturnType<typeof createPulumiCloudDrivers>;
  let dataKeys: ReturnType<typeof createLocalKeysDriver>;
  const spec = tenantSpec('gpu-co', 'enterprise');
  let tenant: TenantRef = { uid: '0b7c4a1e-1111-4222-8333-444455556666', slug: 'gpu-co', spec };

  beforeAll(async () => {
    [server, peer, dataDir] = await Promise.all([
      startKubeApiServer(),
      pulumiPeer(),
      mkdtemp(path.join(tmpdir(), 'citadel-stacks-')),
    ]);
    const clients = createKubernetesClients(kubeConfigFromString(server.kubeconfig));
    await serverSideApply(clients.rest, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE },
    });
    const providerVersion = (peer.versions['pulumi-resource-kubernetes'] ?? '').replace(/^v/, '');
    const stacks = createPulumiTenantStacks({
      projectName: 'citadel',
      backendUrl: peer.backendUrl,
      program: kubernetesOnlyProgram(server.kubeconfig, providerVersion),
      workspace: {
        pulumiCommand: await automation.PulumiCommand.get({ root: peer.root }),
        pulumiHome: peer.pulumiHome,
        envVars: peer.env,
      },
      logger: createJsonLinesLogger('warn'),
      observationTtlMs: 0,
    });
    drivers = createPulumiCloudDrivers(stacks);
    dataKeys = createLocalKeysDriver({
      keyRing: await createLocalKeyRing({ dataDir }),
      secrets: createKubernetesTenantSecretStore({ rest: clients.rest, namespace: NAMESPACE }),
    });
  });

  afterAll(async () => {
    await server.stop();
    await peer.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const configMap = async (name: string) => {
    const clients = createKubernetesClients(kubeConfigFromString(server.kubeconfig));
    return readObject(clients.rest, CONFIG_MAP, name, NAMESPACE);
  };

  it('creates the stack for the cloud key, updates it when the spec changes, and reports the GPU pool', async () => {
    const keys = drivers.keys(dataKeys);
    expect((await keys.observe(tenant)).cloudKey?.state).toBe('absent');
    expect(await drivers.gpuPool.observe(tenant)).toMatchObject({ available: true, ready: false });

    await keys.apply(tenant, { component: 'keys', type: 'ensure-cloud-key' });
    expect((await keys.observe(tenant)).cloudKey?.state).toBe('ready');
    expect(await drivers.gpuPool.observe(tenant)).toMatchObject({
      ready: true,
      reason: 'NodeGroupReady',
    });
    expect((await configMap('gpu-co-key'))?.data).toEqual({
      rotationDays: String(spec.resources.keys.rotationDays),
    });
    expect(await configMap('gpu-co-gpu')).toBeDefined();

    // A new rotation period: the stack is outdated until it is brought up again.
    tenant = {
      ...tenant,
      spec: { ...spec, resources: { ...spec.resources, keys: { rotationDays: 90 } } },
    };
    expect((await keys.observe(tenant)).cloudKey?.state).toBe('outdated');
    await keys.apply(tenant, { component: 'keys', type: 'ensure-cloud-key' });
    expect((await keys.observe(tenant)).cloudKey?.state).toBe('ready');
    expect((await configMap('gpu-co-key'))?.data).toEqual({ rotationDays: '90' });
  }, 300_000);

  it('removes the GPU pool by an update, then destroys and removes the stack with the keys', async () => {
    await drivers.gpuPool.apply(tenant, { component: 'gpuPool', type: 'remove' });
    expect(await configMap('gpu-co-gpu')).toBeUndefined();
    expect(await configMap('gpu-co-key')).toBeDefined();

    const keys = drivers.keys(dataKeys);
    await keys.apply(tenant, { component: 'keys', type: 'create-version', version: 1 });
    await keys.apply(tenant, { component: 'keys', type: 'remove' });
    const observed = await keys.observe(tenant);
    expect(observed).toEqual({
      versions: [],
      cloudKey: expect.objectContaining({ state: 'absent' }) as unknown,
    });
    expect(await configMap('gpu-co-key')).toBeUndefined();
  }, 300_000);
});
