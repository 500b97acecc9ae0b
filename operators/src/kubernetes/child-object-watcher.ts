import type { Watch } from '@kubernetes/client-node';
import { TENANT_LABEL } from '@citadel/tenant-templates';
import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import { resourcePath, type KubernetesRestClient } from './kubernetes-rest-client.ts';
import { createListWatcher, type ListWatcher, type WatchedObject } from './list-watcher.ts';
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
}

interface LabelledObject extends WatchedObject {
  metadata?: WatchedObject['metadata'] & { labels?: Record<string, string> };
}

/**
 * Watches every kind the operator creates, by its labels, across the cluster, so that a
 * child deleted or edited by hand brings its tenant back to the work queue at once instead
 * of at the next resync. Events only name the tenant: the reconciler observes for itself.
 */
export function createChildObjectWatcher(deps: ChildObjectWatcherDeps) {
  const types = deps.types ?? TENANT_OBJECT_TYPES;
  const watchers: ListWatcher[] = types.map((type) =>
    createListWatcher<LabelledObject>({
      name: type.kind,
      watch: deps.watch,
      path: collectionPath(type),
      labelSelector: MANAGED_OBJECT_SELECTOR,
      async list() {
        const result = await deps.rest.request<{
          items: LabelledObject[];
          metadata: { resourceVersion: string };
        }>('GET', collectionPath(type), { query: { labelSelector: MANAGED_OBJECT_SELECTOR } });
        return { items: result.items, resourceVersion: result.metadata.resourceVersion };
      },
      onEvent({ object }) {
        const slug = object.metadata?.labels?.[TENANT_LABEL];
        if (slug !== undefined) deps.onTenantObjectChange(slug);
      },
      logger: deps.logger,
      ...(deps.onWatchError ? { onWatchError: deps.onWatchError } : {}),
    }),
  );
  return {
    async start(): Promise<void> {
      await Promise.all(watchers.map((watcher) => watcher.start()));
    },
    stop(): void {
      for (const watcher of watchers) watcher.stop();
    },
  };
}

export type ChildObjectWatcher = ReturnType<typeof createChildObjectWatcher>;
