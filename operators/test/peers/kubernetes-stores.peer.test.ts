import type { TenantStatus } from '@citadel/contracts';
import {
  KUBE_API_SERVER_PEERS,
  peerSuite,
  startKubeApiServer,
  waitFor,
  type KubeApiServer,
} from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubernetesTenantSecretStore,
  tenantSecretName,
} from '../../src/kubernetes/drivers/kubernetes-tenant-secret-store.ts';
import {
  createKubernetesClients,
  kubeConfigFromString,
  type KubernetesClients,
} from '../../src/kubernetes/kubernetes-clients.ts';
import type { KubernetesRestClient } from '../../src/kubernetes/kubernetes-rest-client.ts';
import {
  createKubernetesTenantStore,
  OPERATOR_FINALIZER,
} from '../../src/kubernetes/kubernetes-tenant-store.ts';
import { createJsonLinesLogger } from '../../src/kubernetes/json-lines-logger.ts';
import {
  applyTenantCrd,
  OPERATOR_NAMESPACE,
  readObject,
  readTenant,
  serverSideApply,
  tenantObject,
  tenantSpec,
} from './operator-peer-fixture.ts';

const suite = peerSuite(
  'the operator’s Tenant and Secret stores against a real kube-apiserver: fewer requests, same truth',
  KUBE_API_SERVER_PEERS,
);

/** The real client, with every request it sends written down (method and path). */
function countingClient(rest: KubernetesRestClient) {
  const requests: string[] = [];
  const client: KubernetesRestClient = {
    request(method, path, input) {
      requests.push(`${method} ${path}`);
      return rest.request(method, path, input);
    },
  };
  return { client, requests };
}

function status(phase: TenantStatus['phase'], message: string): TenantStatus {
  return {
    phase,
    observedGeneration: 1,
    conditions: [
      {
        type: 'NamespaceReady',
        status: 'True',
        reason: 'Applied',
        message,
        lastTransitionTime: '2026-11-25T00:00:00Z',
        observedGeneration: 1,
      },
    ],
    endpoints: {},
  };
}

describe.skipIf(suite.skip)(suite.title, () => {
  let server: KubeApiServer;
  let clients: KubernetesClients;

  beforeAll(async () => {
    server = await startKubeApiServer({ controllers: [] });
    clients = createKubernetesClients(kubeConfigFromString(server.kubeconfig));
    await applyTenantCrd(clients.rest);
    await serverSideApply(clients.rest, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: OPERATOR_NAMESPACE },
    });
  });

  afterAll(() => server.stop());

  it('holds back status writes within the interval, flushes the last, writes phase changes at once, and wakes only for spec and deletion', async () => {
    let clock = 0;
    const { client, requests } = countingClient(clients.rest);
    const store = createKubernetesTenantStore({
      rest: client,
      watch: clients.watch,
      logger: createJsonLinesLogger('warn'),
      statusWriteIntervalMs: 2_000,
      monotonicNow: () => clock,
    });
    const woken: string[] = [];
    store.onChange((slug) => woken.push(slug));
    await store.start();
    try {
      await serverSideApply(clients.rest, tenantObject('acme'));
      await waitFor(() => Promise.resolve(woken.includes('acme') ? true : undefined));
      const uid = (await readTenant(clients, 'acme'))?.metadata.uid ?? '';
      const statusOf = async () =>
        (await readTenant(clients, 'acme'))?.status?.conditions?.[0]?.message;

      // The finalizer: read and patched once; afterwards the watch knows it is there.
      expect(await store.ensureFinalizer('acme')).toBe(true);
      await waitFor(async () =>
        (await readTenant(clients, 'acme'))?.metadata.finalizers?.includes(OPERATOR_FINALIZER)
          ? true
          : undefined,
      );
      await waitFor(async () => {
        const before = requests.length;
        await store.ensureFinalizer('acme');
        return requests.length === before ? true : undefined;
      });

      await store.writeStatus('acme', uid, status('Provisioning', 'first'));
      expect(await statusOf()).toBe('first');
      clock += 500;
      await store.writeStatus('acme', uid, status('Provisioning', 'second'));
      clock += 500;
      await store.writeStatus('acme', uid, status('Provisioning', 'third'));
      // Held: same phase within the interval.
      expect(await statusOf()).toBe('first');
      await store.flushStatus('acme');
      expect(await statusOf()).toBe('third');
      await store.flushStatus('acme'); // nothing held: nothing sent
      clock += 100;
      const patchesBefore = requests.filter((request) => request.startsWith('PATCH')).length;
      await store.writeStatus('acme', uid, status('Ready', 'ready'));
      expect(await statusOf()).toBe('ready');
      expect(requests.filter((request) => request.startsWith('PATCH')).length).toBe(
        patchesBefore + 1,
      );
      clock += 5_000;
      await store.writeStatus('acme', uid, status('Ready', 'later'));
      expect(await statusOf()).toBe('later');

      // Status and finalizer changes did not wake anyone; a spec change and a deletion do.
      // (Watch events arrive in order: had they woken it, that would show before the spec's.)
      const wokenBefore = woken.length;
      await serverSideApply(clients.rest, tenantObject('acme', tenantSpec('acme', 'enterprise')));
      await waitFor(() => Promise.resolve(woken.length > wokenBefore ? true : undefined));
      expect(woken.slice(wokenBefore)).toEqual(['acme']);
      await clients.rest.request('DELETE', '/apis/citadel.azora.dev/v1alpha1/tenants/acme');
      await waitFor(() => Promise.resolve(woken.length > wokenBefore + 1 ? true : undefined));
      expect(woken.slice(wokenBefore)).toEqual(['acme', 'acme']);
    } finally {
      store.stop();
    }
  });

  it('reads each tenant Secret once per pass, takes back a write refused as stale, and sees a hand edit after its TTL', async () => {
    let clock = 0;
    const { client, requests } = countingClient(clients.rest);
    const secrets = createKubernetesTenantSecretStore({
      rest: client,
      namespace: OPERATOR_NAMESPACE,
      cacheTtlMs: 5_000,
      monotonicNow: () => clock,
    });
    const uid = '2f1e0a4c-0000-4000-8000-000000000001';
    const gets = () => requests.filter((request) => request.startsWith('GET')).length;

    await secrets.addDataKey(uid, { version: 1, wrappedKey: Buffer.from('one') });
    const afterCreate = gets();
    for (let read = 0; read < 5; read += 1) {
      expect((await secrets.listDataKeys(uid)).map((key) => key.version)).toEqual([1]);
    }
    expect(gets()).toBe(afterCreate);

    // Someone else writes the Secret (a second writer; a hand edit).
    const path = `/api/v1/namespaces/${OPERATOR_NAMESPACE}/secrets/${tenantSecretName(uid)}`;
    const live = await clients.rest.request<{ data: Record<string, string> }>('GET', path);
    const document = JSON.parse(
      Buffer.from(live.data['tenant-secrets.json'] ?? '', 'base64').toString('utf8'),
    ) as { dataKeys: Array<Record<string, unknown>> };
    document.dataKeys.push({
      version: 2,
      wrappedKey: Buffer.from('two').toString('base64'),
      active: false,
      createdAt: new Date().toISOString(),
    });
    await clients.rest.request('PUT', path, {
      body: {
        ...live,
        data: { 'tenant-secrets.json': Buffer.from(JSON.stringify(document)).toString('base64') },
      },
    });
    // Within the TTL the store still answers what it last read or wrote.
    expect((await secrets.listDataKeys(uid)).map((key) => key.version)).toEqual([1]);

    // Its next write is refused as stale (409): it reads again and keeps the other's key.
    await secrets.addDataKey(uid, { version: 3, wrappedKey: Buffer.from('three') });
    const stored = await readObject<{
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      data: Record<string, string>;
    }>(
      clients.rest,
      { apiVersion: 'v1', kind: 'Secret' },
      tenantSecretName(uid),
      OPERATOR_NAMESPACE,
    );
    const versions = (
      JSON.parse(
        Buffer.from(stored?.data['tenant-secrets.json'] ?? '', 'base64').toString('utf8'),
      ) as { dataKeys: Array<{ version: number }> }
    ).dataKeys.map((key) => key.version);
    expect(versions).toEqual([1, 2, 3]);
    expect((await secrets.listDataKeys(uid)).map((key) => key.version)).toEqual([1, 2, 3]);

    // After the TTL a read goes to the API server again.
    clock += 5_001;
    const beforeExpiry = gets();
    await secrets.listDataKeys(uid);
    expect(gets()).toBe(beforeExpiry + 1);

    await secrets.deleteDataKeys(uid);
    expect(await secrets.listDataKeys(uid)).toEqual([]);
  });
});
