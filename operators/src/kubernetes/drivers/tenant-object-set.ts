import { findDrift, objectKey } from '../manifest-drift.ts';
import type { LiveObject, ManifestObject, ServerSideApplier } from '../server-side-applier.ts';
import { tenantObjectSelector, type ObjectType } from '../tenant-object-renderer.ts';

/** What one kind of a tenant's objects looks like in the cluster, against what it should be. */
export interface ObservedObjectSet {
  /** The tenant's objects of these types, by `Kind/name`. */
  live: Map<string, LiveObject>;
  /** Rendered objects missing, being deleted or changed, then left-over ones (`… (left over)`). */
  drift: string[];
  /** The tenant's objects no longer rendered (an older templates version, a removed service). */
  leftOver: LiveObject[];
}

/**
 * Lists the tenant's objects of the namespaced `types` in `namespace` (one list per kind, by
 * the tenant's label) and compares them with `desired`.
 */
export async function observeObjectSet(
  applier: ServerSideApplier,
  input: { slug: string; namespace: string; types: readonly ObjectType[] },
  desired: readonly ManifestObject[],
): Promise<ObservedObjectSet> {
  const selector = tenantObjectSelector(input.slug);
  const lists = await Promise.all(
    input.types.map((type) => applier.list(type, selector, input.namespace)),
  );
  const live = new Map(lists.flat().map((object) => [objectKey(object), object]));
  const wanted = new Set(desired.map((object) => objectKey(object)));
  const leftOver = [...live.values()].filter((object) => !wanted.has(objectKey(object)));
  const drift = [
    ...findDrift(desired, live),
    ...leftOver.map((object) => `${objectKey(object)} (left over)`),
  ];
  return { live, drift, leftOver };
}

/** Applies `desired` in order, then deletes what is left over: objects it no longer renders. */
export async function applyObjectSet(
  applier: ServerSideApplier,
  input: { slug: string; namespace: string; types: readonly ObjectType[] },
  desired: readonly ManifestObject[],
): Promise<void> {
  for (const object of desired) await applier.apply(object);
  const { leftOver } = await observeObjectSet(applier, input, desired);
  for (const object of leftOver) {
    await applier.remove({
      apiVersion: object.apiVersion ?? '',
      kind: object.kind ?? '',
      metadata: { name: object.metadata?.name ?? '', namespace: input.namespace },
    });
  }
}
