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

/**
 * Applies `desired` — Namespaces first, then everything else at once (one object's apply does
 * not depend on another's within a set) — then deletes what is left over: objects it no
 * longer renders. Every apply runs to its end before the first failure is thrown.
 */
export async function applyObjectSet(
  applier: ServerSideApplier,
  input: { slug: string; namespace: string; types: readonly ObjectType[] },
  desired: readonly ManifestObject[],
): Promise<void> {
  const namespaces = desired.filter((object) => object.kind === 'Namespace');
  for (const object of namespaces) await applier.apply(object);
  const outcomes = await Promise.allSettled(
    desired.filter((object) => object.kind !== 'Namespace').map((object) => applier.apply(object)),
  );
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  const { leftOver } = await observeObjectSet(applier, input, desired);
  for (const object of leftOver) {
    await applier.remove({
      apiVersion: object.apiVersion ?? '',
      kind: object.kind ?? '',
      metadata: { name: object.metadata?.name ?? '', namespace: input.namespace },
    });
  }
}
