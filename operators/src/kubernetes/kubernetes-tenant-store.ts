import type { Watch } from '@kubernetes/client-node';
import {
  TENANT_API_VERSION,
  TENANT_KIND,
  type TenantResource,
  type TenantStatus,
} from '@citadel/contracts';
import type { TenantStore } from '../core/tenant-store.ts';
import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import { isConflict, isNotFound } from './kubernetes-clients.ts';
import { resourcePath, type KubernetesRestClient } from './kubernetes-rest-client.ts';
import { createListWatcher, type ListWatcher, type WatchEvent } from './list-watcher.ts';
import { FIELD_MANAGER } from './server-side-applier.ts';
import { TENANT_GROUP, TENANT_PLURAL, TENANT_VERSION } from './tenant-crd.ts';

/**
 * The finalizer the operator puts on every Tenant it sees and removes once the tenant owns
 * nothing any more. (The control plane's store uses `TENANT_FINALIZER`; this one is the
 * operator's own, so either can tell its work from the other's.)
 */
export const OPERATOR_FINALIZER = 'citadel.azora.dev/finalizer';

/** Tenants as the API server stores them: status may be missing until first written. */
interface StoredTenant {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec: TenantResource['spec'];
  status?: Partial<TenantStatus>;
}

export interface KubernetesTenantStore extends TenantStore {
  /**
   * Lists, then watches Tenants; every change of a tenant's spec, deletion or finalizers (not
   * of its status alone) calls the listeners with the tenant's name.
   */
  start(): Promise<void>;
  stop(): void;
  hasSynced(): boolean;
  onChange(listener: (slug: string) => void): void;
  /**
   * Puts the operator's finalizer on a live tenant that lacks it, so that deleting it waits
   * for the operator. Returns false when there is no such tenant any more.
   */
  ensureFinalizer(slug: string): Promise<boolean>;
  /** Writes the tenant's status held back by the write interval, if any (end of a pass). */
  flushStatus(slug: string): Promise<void>;
}

export interface KubernetesTenantStoreDeps {
  rest: KubernetesRestClient;
  watch: Watch;
  logger: DriverLogger;
  onWatchError?: (reason: string) => void;
  /**
   * A tenant's status is written at most once per this interval while its phase stays the
   * same; what comes in between is held and replaces what was held, and `flushStatus` writes
   * it (default 2 s; 0: every write goes out).
   */
  statusWriteIntervalMs?: number;
  /** The clock of the interval (tests). */
  monotonicNow?: () => number;
}

const DEFAULT_STATUS_WRITE_INTERVAL_MS = 2_000;
const TENANT_TYPE = { apiVersion: TENANT_API_VERSION, kind: TENANT_KIND };
const MAX_ATTEMPTS = 5;

/**
 * The API server returns custom resources with their keys sorted; the reconciler compares
 * statuses by their JSON, so conditions are put back in the order it writes them, and
 * endpoints sorted (the operator writes them sorted).
 */
function normalizeStatus(status: Partial<TenantStatus> | undefined): TenantStatus {
  const conditions = (status?.conditions ?? []).map((condition) => ({
    type: condition.type,
    status: condition.status,
    reason: condition.reason,
    message: condition.message,
    lastTransitionTime: condition.lastTransitionTime,
    observedGeneration: condition.observedGeneration,
  }));
  const endpoints = Object.fromEntries(
    Object.entries(status?.endpoints ?? {}).sort(([a], [b]) => a.localeCompare(b)),
  );
  return {
    phase: status?.phase ?? 'Pending',
    observedGeneration: status?.observedGeneration ?? 0,
    conditions,
    endpoints,
  };
}

function toResource(stored: StoredTenant): TenantResource {
  const { metadata } = stored;
  return {
    apiVersion: TENANT_API_VERSION,
    kind: TENANT_KIND,
    metadata: {
      name: metadata.name,
      uid: metadata.uid,
      generation: metadata.generation ?? 1,
      creationTimestamp: metadata.creationTimestamp ?? new Date(0).toISOString(),
      deletionTimestamp: metadata.deletionTimestamp,
      finalizers: metadata.finalizers ?? [],
    },
    spec: stored.spec,
    status: normalizeStatus(stored.status),
  };
}

/**
 * What of a Tenant a reconcile acts on: its identity, spec (generation) and deletion. A change
 * of status or finalizers alone (the operator's own writes) does not queue the tenant: the
 * `GenerationChangedPredicate` of controller-runtime, plus deletion. A finalizer someone else
 * removed is put back at the next resync.
 */
function triggerOf(tenant: StoredTenant): string {
  const { uid, generation, deletionTimestamp } = tenant.metadata;
  return JSON.stringify([uid, generation ?? 0, deletionTimestamp ?? '']);
}

function isFinalized(tenant: StoredTenant): boolean {
  return (
    tenant.metadata.deletionTimestamp === undefined &&
    (tenant.metadata.finalizers ?? []).includes(OPERATOR_FINALIZER)
  );
}

/**
 * Tenants as custom resources. Reads are live GETs (a reconcile must see the spec and
 * finalizers as they are, not as a cache last heard); a list+watch keeps the set of names
 * for resyncs and tells the controller about every change. Status goes through the status
 * subresource (field manager `citadel-operator`), conditional on the tenant's uid so a
 * status never lands on a re-created namesake.
 */
export function createKubernetesTenantStore(
  deps: KubernetesTenantStoreDeps,
): KubernetesTenantStore {
  const { rest, logger } = deps;
  const listTenants = () =>
    rest.request<{ items: StoredTenant[]; metadata: { resourceVersion: string } }>(
      'GET',
      resourcePath(TENANT_TYPE),
    );
  /**
   * Each tenant's name, with what of it makes a reconcile worth running (see `triggerOf`) and
   * whether the watch last saw it live and carrying the operator's finalizer.
   */
  const names = new Map<string, { trigger: string; finalized: boolean }>();
  const seen = (tenant: StoredTenant) => ({
    trigger: triggerOf(tenant),
    finalized: isFinalized(tenant),
  });
  const listeners: Array<(slug: string) => void> = [];
  const notify = (slug: string) => {
    for (const listener of listeners) listener(slug);
  };

  const watcher: ListWatcher = createListWatcher<StoredTenant>({
    name: 'tenants',
    watch: deps.watch,
    path: `/apis/${TENANT_GROUP}/${TENANT_VERSION}/${TENANT_PLURAL}`,
    async list() {
      const result = await listTenants();
      return { items: result.items, resourceVersion: result.metadata.resourceVersion };
    },
    onList(items) {
      names.clear();
      for (const item of items) names.set(item.metadata.name, seen(item));
      for (const item of items) notify(item.metadata.name);
    },
    onEvent(event: WatchEvent<StoredTenant>) {
      const name = event.object.metadata.name;
      if (event.type === 'DELETED') {
        names.delete(name);
        lastStatusWrite.delete(name);
        heldStatus.delete(name);
        notify(name);
        return;
      }
      const now = seen(event.object);
      const previous = names.get(name);
      names.set(name, now);
      // A change of status alone (the operator's own writes) is nothing to act on.
      if (previous?.trigger !== now.trigger) notify(name);
    },
    logger,
    ...(deps.onWatchError ? { onWatchError: deps.onWatchError } : {}),
  });

  const statusInterval = deps.statusWriteIntervalMs ?? DEFAULT_STATUS_WRITE_INTERVAL_MS;
  const clock = deps.monotonicNow ?? (() => performance.now());
  /** When each tenant's status was last written, and with which phase. */
  const lastStatusWrite = new Map<string, { at: number; phase: string }>();
  const heldStatus = new Map<string, { uid: string; status: TenantStatus }>();

  const read = async (slug: string): Promise<StoredTenant | undefined> => {
    try {
      return await rest.request<StoredTenant>('GET', resourcePath(TENANT_TYPE, undefined, slug));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  const patchStatus = async (slug: string, uid: string, status: TenantStatus) => {
    try {
      // A JSON patch: the test makes the write conditional on the tenant's uid, and `add`
      // replaces the whole status (a merge patch or an apply would merge maps, keeping
      // endpoints the new status no longer has).
      await rest.request('PATCH', `${resourcePath(TENANT_TYPE, undefined, slug)}/status`, {
        query: { fieldManager: FIELD_MANAGER },
        body: [
          { op: 'test', path: '/metadata/uid', value: uid },
          { op: 'add', path: '/status', value: status },
        ],
        contentType: 'application/json-patch+json',
      });
    } catch (error) {
      // Gone, or a new tenant of the same name (the uid test failed): nothing to write.
      if (isNotFound(error)) return;
      if ((await read(slug))?.metadata.uid !== uid) return;
      throw error;
    }
  };

  /** Merge-patches the finalizers, guarded by resourceVersion; re-reads and retries on conflict. */
  const changeFinalizers = async (
    slug: string,
    change: (tenant: StoredTenant) => string[] | undefined,
  ): Promise<boolean> => {
    for (let attempt = 1; ; attempt += 1) {
      const tenant = await read(slug);
      if (!tenant) return false;
      const finalizers = change(tenant);
      if (finalizers === undefined) return true;
      try {
        // The resourceVersion makes the merge patch conditional: a concurrent change wins, we retry.
        await rest.request('PATCH', resourcePath(TENANT_TYPE, undefined, slug), {
          body: { metadata: { resourceVersion: tenant.metadata.resourceVersion, finalizers } },
          contentType: 'application/merge-patch+json',
        });
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        if (!isConflict(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  };

  return {
    start: () => watcher.start(),
    stop: () => watcher.stop(),
    hasSynced: () => watcher.hasSynced(),
    onChange: (listener) => listeners.push(listener),
    async listSlugs() {
      if (watcher.hasSynced()) return [...names.keys()];
      return (await listTenants()).items.map((item) => item.metadata.name);
    },
    async get(slug) {
      const stored = await read(slug);
      return stored ? toResource(stored) : undefined;
    },
    async writeStatus(slug, uid, status) {
      const last = lastStatusWrite.get(slug);
      if (last?.phase === status.phase && clock() - last.at < statusInterval) {
        heldStatus.set(slug, { uid, status });
        return;
      }
      heldStatus.delete(slug);
      lastStatusWrite.set(slug, { at: clock(), phase: status.phase });
      await patchStatus(slug, uid, status);
    },
    async flushStatus(slug) {
      const held = heldStatus.get(slug);
      if (!held) return;
      heldStatus.delete(slug);
      lastStatusWrite.set(slug, { at: clock(), phase: held.status.phase });
      await patchStatus(slug, held.uid, held.status);
    },
    async removeFinalizer(slug, uid, finalizer) {
      await changeFinalizers(slug, (tenant) => {
        const finalizers = tenant.metadata.finalizers ?? [];
        if (tenant.metadata.uid !== uid || !finalizers.includes(finalizer)) return undefined;
        return finalizers.filter((name) => name !== finalizer);
      });
    },
    async ensureFinalizer(slug) {
      // Seen with it by the watch: nothing to read or write. (A tenant deleted meanwhile is
      // found by the reconcile's own read.)
      if (names.get(slug)?.finalized === true) return true;
      return changeFinalizers(slug, (tenant) => {
        const finalizers = tenant.metadata.finalizers ?? [];
        const deleting = tenant.metadata.deletionTimestamp !== undefined;
        if (deleting || finalizers.includes(OPERATOR_FINALIZER)) return undefined;
        return [...finalizers, OPERATOR_FINALIZER];
      });
    },
  };
}
