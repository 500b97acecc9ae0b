import type { Watch } from '@kubernetes/client-node';
import { TENANT_LABEL } from '@citadel/tenant-templates';
import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import { resourcePath, type KubernetesRestClient } from './kubernetes-rest-client.ts';
import { createListWatcher, type ListWatcher, type WatchedObject } from './list-watcher.ts';
import type { LiveObject } from './server-side-applier.ts';
import type { TenantObjectCache } from './tenant-object-cache.ts';
import {
  MANAGED_OBJECT_SELECTOR,
  TENANT_OBJECT_TYPES,
  type ObjectType,
} from './tenant-object-renderer.ts';

/** `/api/v1/secrets`, `/apis/apps/v1/deployments`: the kind across all namespaces. */
export function collectionPath(type: ObjectType): string {
  return resourcePath(type);
}

export interface ChildObjectWatcherDeps {
  rest: KubernetesRestClient;
  watch: Watch;
  logger: DriverLogger;
  /** Called with the tenant's slug when one of its objects changes or is deleted. */
  onTenantObjectChange(slug: string): void;
  onWatchError?: (reason: string) => void;
  types?: readonly ObjectType[];
  /** Filled from the lists and events; emptied when the watcher stops. */
  cache?: TenantObjectCache;
}

interface LabelledObject extends WatchedObject {
  metadata?: WatchedObject['metadata'] & { labels?: Record<string, string> };
}

/**
 * Watches every kind the operator creates, by its labels, across the cluster, so that a
 * child deleted or edited by hand brings its tenant back to the work queue at once instead
 * of at the next resync. Events only name the tenant: the reconciler observes for itself.
 *
 * With a `cache`, the lists and events also fill it (the operator's informer cache), and a
 * tenant is named only for what is news to the cache: the echo of the operator's own write
 * is not, so writing a tenant's objects does not make it reconcile again.
 */
export function createChildObjectWatcher(deps: ChildObjectWatcherDeps) {
  const types = deps.types ?? TENANT_OBJECT_TYPES;
  const { cache } = deps;
  const watchers: ListWatcher[] = types.map((type) => {
    let listVersion = '';
    return createListWatcher<LabelledObject>({
      name: type.kind,
      watch: deps.watch,
      path: collectionPath(type),
      labelSelector: MANAGED_OBJECT_SELECTOR,
      async list() {
        const result = await deps.rest.request<{
          items: LabelledObject[];
          metadata: { resourceVersion: string };
        }>('GET', collectionPath(type), { query: { labelSelector: MANAGED_OBJECT_SELECTOR } });
        listVersion = result.metadata.resourceVersion;
        return { items: result.items, resourceVersion: result.metadata.resourceVersion };
      },
      onList(items) {
        // A relist after a gap: the tenants whose objects changed meanwhile are looked at.
        for (const slug of cache?.replace(type, items as LiveObject[], listVersion) ?? []) {
          deps.onTenantObjectChange(slug);
        }
      },
      onEvent({ type: event, object }) {
        const slug = cache
          ? cache.observe(type, event, object as LiveObject)
          : object.metadata?.labels?.[TENANT_LABEL];
        if (slug !== undefined) deps.onTenantObjectChange(slug);
      },
      logger: deps.logger,
      ...(deps.onWatchError ? { onWatchError: deps.onWatchError } : {}),
    });
  });
  return {
    async start(): Promise<void> {
      await Promise.all(watchers.map((watcher) => watcher.start()));
    },
    stop(): void {
      for (const watcher of watchers) watcher.stop();
      cache?.clear();
    },
  };
}

export type ChildObjectWatcher = ReturnType<typeof createChildObjectWatcher>;
