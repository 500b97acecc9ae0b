import {
  KUBE_API_SERVER_PEERS,
  peerSuite,
  startKubeApiServer,
  waitFor,
  type KubeApiServer,
} from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubernetesClients,
  kubeConfigFromString,
  type KubernetesClients,
} from '../../src/kubernetes/kubernetes-clients.ts';
import { createJsonLinesLogger } from '../../src/kubernetes/json-lines-logger.ts';
import {
  createListWatcher,
  type ListResult,
  type WatchEvent,
  type WatchedObject,
} from '../../src/kubernetes/list-watcher.ts';
import { serverSideApply } from './operator-peer-fixture.ts';

const suite = peerSuite('list+watch against a real kube-apiserver', KUBE_API_SERVER_PEERS);
const PATH = '/api/v1/namespaces/default/configmaps';

describe.skipIf(suite.skip)(suite.title, () => {
  let server: KubeApiServer;
  let clients: KubernetesClients;

  beforeAll(async () => {
    // Watches straight from etcd, compacted every second: an old resourceVersion is gone soon.
    server = await startKubeApiServer({
      controllers: [],
      apiServerFlags: ['--watch-cache=false', '--etcd-compaction-interval=1s'],
    });
    clients = createKubernetesClients(kubeConfigFromString(server.kubeconfig));
    await configMap('warm-up');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await configMap('warm-up');
  });

  afterAll(() => server.stop());

  function listConfigMaps() {
    return clients.rest.request<{ items: WatchedObject[]; metadata: { resourceVersion: string } }>(
      'GET',
      PATH,
    );
  }
  function configMap(name: string) {
    return serverSideApply(clients.rest, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'default' },
      data: { at: new Date().toISOString() },
    });
  }

  it('backs off after a failed list, relists on 410 Gone, and re-establishes watches the server ends', async () => {
    const lists: string[] = [];
    const events: Array<WatchEvent<WatchedObject>> = [];
    /** Every name the consumer has been told about, by an event or a (re)list. */
    const seen = new Set<string>();
    const errors: string[] = [];
    let failNextList = true;
    const watcher = createListWatcher<WatchedObject>({
      name: 'configmaps',
      watch: clients.watch,
      path: PATH,
      async list(): Promise<ListResult<WatchedObject>> {
        if (failNextList) {
          failNextList = false;
          throw new Error('connection refused (first list)');
        }
        if (lists.length === 0) {
          // A resourceVersion long compacted away: the server answers the watch with 410.
          lists.push('stale');
          return { items: [], resourceVersion: '1' };
        }
        const result = await listConfigMaps();
        lists.push(result.metadata.resourceVersion);
        return { items: result.items, resourceVersion: result.metadata.resourceVersion };
      },
      onList: (items) => items.forEach((item) => seen.add(item.metadata?.name ?? '')),
      onEvent: (event) => {
        events.push(event);
        seen.add(event.object.metadata?.name ?? '');
      },
      onWatchError: (reason) => errors.push(reason),
      logger: createJsonLinesLogger('silent'),
      backoff: { initialMs: 50, maxMs: 200 },
      // The server ends each watch after a second; with etcd compacted every second, resuming
      // from the last resourceVersion soon meets 410 too, and the watcher relists.
      timeoutSeconds: () => 1,
    });
    await watcher.start();
    try {
      expect(errors).toEqual(['connection refused (first list)']);
      await waitFor(() => Promise.resolve(lists.length >= 2 ? true : undefined), {
        timeoutMs: 10_000,
        description: 'a relist after 410 Gone',
      });
      await configMap('first');
      await waitFor(
        () =>
          Promise.resolve(
            events.some((e) => e.object.metadata?.name === 'first') ? true : undefined,
          ),
        { timeoutMs: 10_000, description: 'the first event' },
      );
      // Outlive a few server-side watch timeouts and compactions, then change something:
      // the consumer hears of it, by an event or by a relist.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await configMap('second');
      await waitFor(() => Promise.resolve(seen.has('second') ? true : undefined), {
        timeoutMs: 10_000,
        description: 'the change after the watch was re-established',
      });
      expect(lists[0]).toBe('stale');
      expect(lists.length).toBeGreaterThanOrEqual(2);
      expect(errors).toEqual(['connection refused (first list)']);
      expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'first' } } });
    } finally {
      watcher.stop();
    }
  });
});
