import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { request } from 'node:https';
import {
  KUBE_API_SERVER_PEERS,
  peerSuite,
  startKubeApiServer,
  type KubeApiServer,
} from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FIELD_MANAGER = 'citadel-peer-test';
const suite = peerSuite('a real kube-apiserver and etcd (test peers)', KUBE_API_SERVER_PEERS);

describe.skipIf(suite.skip)(suite.title, () => {
  let server: KubeApiServer;
  let stopServer = (): Promise<void> => Promise.resolve();
  let objects: KubernetesObjectApi;
  let core: CoreV1Api;

  beforeAll(async () => {
    server = await startKubeApiServer();
    stopServer = server.stop;
    const config = new KubeConfig();
    config.loadFromString(server.kubeconfig);
    objects = KubernetesObjectApi.makeApiClient(config);
    core = config.makeApiClient(CoreV1Api);
  });

  afterAll(() => stopServer());

  it('serves the version it was built at, over TLS its kubeconfig trusts', async () => {
    expect(server.version).toMatch(/^v1\.\d+\.\d+$/);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((namespace) => namespace.metadata?.name)).toContain('default');
  });

  it('creates a Namespace and a ConfigMap by server-side apply and reads them back', async () => {
    const namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'tenant-acme', labels: { 'citadel.azora.dev/tenant': 'acme' } },
    };
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'tenant-settings', namespace: 'tenant-acme' },
      data: { plan: 'starter' },
    };
    const apply = <T extends KubernetesObject>(object: T) =>
      objects.patch(
        object,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    await apply(namespace);
    await apply(configMap);
    // Applying again with a changed field is an update of the same object, not a conflict.
    await apply({ ...configMap, data: { plan: 'business' } });

    const readNamespace = await core.readNamespace({ name: 'tenant-acme' });
    expect(readNamespace.metadata?.labels).toMatchObject({ 'citadel.azora.dev/tenant': 'acme' });
    const read = await core.readNamespacedConfigMap({
      name: 'tenant-settings',
      namespace: 'tenant-acme',
    });
    expect(read.data).toEqual({ plan: 'business' });
    const managers = read.metadata?.managedFields?.map((entry) => [entry.manager, entry.operation]);
    expect(managers).toEqual([[FIELD_MANAGER, 'Apply']]);
  });

  it('authenticates and authorizes: unknown token 401, a user with no binding 403', async () => {
    const namespaces = '/api/v1/namespaces';
    expect(await statusOf(server, namespaces, { authorization: 'Bearer not-a-token' })).toBe(401);
    const asNobody = { authorization: `Bearer ${server.token}`, 'impersonate-user': 'nobody' };
    expect(await statusOf(server, namespaces, asNobody)).toBe(403);
  });
});

/** Status of a GET with `headers`, trusting the test server's CA. */
function statusOf(server: KubeApiServer, pathname: string, headers: Record<string, string>) {
  return new Promise<number | undefined>((resolve, reject) => {
    request(new URL(pathname, server.url), { ca: server.caCertificate, headers }, (response) => {
      response.resume();
      resolve(response.statusCode);
    })
      .on('error', reject)
      .end();
  });
}
