import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import { describeKubernetesError, isConflict, isNotFound } from './kubernetes-clients.ts';
import { resourcePath, type KubernetesRestClient } from './kubernetes-rest-client.ts';
import type { TenantObjectCache } from './tenant-object-cache.ts';

/** The field manager of everything the operator applies (and of the Tenant status it writes). */
export const FIELD_MANAGER = 'citadel-operator';

/** What names one object: enough to read or delete it. */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** An object to apply, as the tenant templates type it (kubernetes-models). */
export interface ManifestObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

/** An object as read back from the API server: plain JSON. */
export interface LiveObject extends Record<string, unknown> {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

/**
 * Reads and writes objects the way the operator owns them: server-side apply under
 * {@link FIELD_MANAGER}, deletes that tolerate an object already gone.
 */
export interface ServerSideApplier {
  /**
   * Applies `object` (server-side apply). A conflict means another manager changed a field
   * the operator sets — every field sent is one it owns — so the apply is repeated with
   * `force`, which takes back exactly those fields and nothing else.
   */
  apply(object: ManifestObject): Promise<LiveObject>;
  read(reference: ObjectReference): Promise<LiveObject | undefined>;
  /** Objects of a kind carrying `labelSelector`, in `namespace` or cluster-wide. */
  list(
    type: { apiVersion: string; kind: string },
    labelSelector: string,
    namespace?: string,
  ): Promise<LiveObject[]>;
  /** Deletes with background propagation; an object already gone is not an error. */
  remove(reference: ObjectReference): Promise<void>;
}

export interface ServerSideApplierDeps {
  rest: KubernetesRestClient;
  logger: DriverLogger;
  /**
   * The operator's cache of its objects: reads and lists it can answer cost no request, and
   * every write is recorded in it. Without one, everything goes to the API server.
   */
  cache?: TenantObjectCache;
}

function pathOf(object: ManifestObject): string {
  const { apiVersion, kind, metadata } = object;
  if (!apiVersion || !kind || !metadata?.name)
    throw new Error('an object needs apiVersion, kind and name');
  return resourcePath({ apiVersion, kind }, metadata.namespace, metadata.name);
}

export function createServerSideApplier(deps: ServerSideApplierDeps): ServerSideApplier {
  const { rest, logger, cache } = deps;
  const patch = async (object: ManifestObject, force: boolean) => {
    const applied = await rest.request<LiveObject>('PATCH', pathOf(object), {
      query: { fieldManager: FIELD_MANAGER, ...(force ? { force: true } : {}) },
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
    cache?.recordApplied(applied);
    return applied;
  };

  return {
    async apply(object) {
      try {
        return await patch(object, false);
      } catch (error) {
        if (!isConflict(error)) throw error;
        logger.info(
          {
            object: `${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name}`,
            conflict: describeKubernetesError(error),
          },
          'another manager changed fields the operator owns; taking them back',
        );
        return patch(object, true);
      }
    },
    async read(reference) {
      const cached = cache?.read(reference);
      if (cached) return cached.object;
      try {
        return await rest.request<LiveObject>('GET', pathOf(reference));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async list(type, labelSelector, namespace) {
      const cached = cache?.list(type, labelSelector, namespace);
      if (cached) return cached;
      const result = await rest.request<{ items: LiveObject[] }>(
        'GET',
        resourcePath(type, namespace),
        { query: { labelSelector } },
      );
      // List items come without apiVersion and kind: put them back, so they name themselves.
      return result.items.map((item) => ({ ...item, ...type }));
    },
    async remove(reference) {
      try {
        // The answer is the object as deleted (or still terminating), or a Status.
        const answer = await rest.request<LiveObject | undefined>('DELETE', pathOf(reference), {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
        });
        const deleted = answer?.kind === reference.kind ? answer : undefined;
        if (deleted?.metadata?.deletionTimestamp !== undefined) cache?.recordApplied(deleted);
        else cache?.recordDeleted(reference, deleted?.metadata?.resourceVersion);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        cache?.recordDeleted(reference);
      }
    },
  };
}
