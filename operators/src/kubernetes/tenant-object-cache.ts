import { MANAGED_BY, TENANT_LABEL } from '@citadel/tenant-templates';
import { FIELD_MANAGER, type LiveObject, type ObjectReference } from './server-side-applier.ts';
import type { ObjectType } from './tenant-object-renderer.ts';

/**
 * What the operator knows of the objects it made, from its watches and its own writes: the
 * informer cache of a client-go controller, so that observing a tenant costs no request.
 *
 * It holds exactly the objects the child watches select (`MANAGED_OBJECT_SELECTOR`: a tenant
 * label and `managed-by=citadel-operator`) of the kinds watched, and answers only what it can
 * answer completely: a list whose selector implies the watches' selector, a read of a watched
 * kind, and only while that kind is synced (listed since the last {@link clear}). Everything
 * else, and everything while it is not synced, goes to the API server.
 *
 * Writes are recorded as they are answered (`recordApplied`, `recordDeleted`), so a reconcile
 * reads its own writes at once; a watch event older than what is held (by resourceVersion)
 * is ignored, and an event that only echoes a write already recorded is reported as such, so
 * the operator does not reconcile a tenant again just because it wrote to it.
 *
 * Objects are kept as {@link compactObject} makes them: the fields the operator owns, which
 * is what the drift check compares, at a fraction of the memory of whole objects.
 * Callers must not change what they are given.
 */
export interface TenantObjectCache {
  /** Objects of `type` in `namespace` matching `labelSelector`; undefined when not answerable. */
  list(type: ObjectType, labelSelector: string, namespace?: string): LiveObject[] | undefined;
  /** `{ object }` (undefined: it does not exist), or undefined when not answerable. */
  read(reference: ObjectReference): { object: LiveObject | undefined } | undefined;
  /**
   * The complete current state of `type` from a (re)list. Returns the tenants (slugs) whose
   * objects of that type changed compared with what was held.
   */
  replace(type: ObjectType, items: LiveObject[], resourceVersion: string): Set<string>;
  /**
   * A watch event. Returns the tenant's slug when it tells something new (not an echo of a
   * recorded write, not older than what is held), undefined otherwise.
   */
  observe(
    type: ObjectType,
    event: 'ADDED' | 'MODIFIED' | 'DELETED',
    object: LiveObject,
  ): string | undefined;
  /** An object as the API server answered a write (apply, create, update). */
  recordApplied(object: LiveObject): void;
  /** An object deleted; `resourceVersion` is the deletion's, when the server said it. */
  recordDeleted(reference: ObjectReference, resourceVersion?: string): void;
  /** Forgets everything (leadership lost): every read goes to the API server until relisted. */
  clear(): void;
  /** How many objects are held (metrics). */
  size(): number;
}

interface Entry {
  object: LiveObject;
  resourceVersion: string;
}

/** `Kind/namespace/name`, the cache's key. */
function keyOf(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/**
 * resourceVersions are opaque to clients, but every Kubernetes API server today (etcd3
 * storage) writes them as increasing integers; compare them only when both are. Unknown
 * order: the newer arrival wins.
 */
export function isOlder(candidate: string | undefined, held: string | undefined): boolean {
  if (candidate === undefined || held === undefined) return false;
  if (!/^\d+$/.test(candidate) || !/^\d+$/.test(held)) return false;
  return BigInt(candidate) < BigInt(held);
}

/** A label selector of equality (`a=b`) and existence (`a`) terms; undefined if it has others. */
export function parseSelector(selector: string): Map<string, string | undefined> | undefined {
  const terms = new Map<string, string | undefined>();
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    if (/!=|\s|\(|!/.test(term)) return undefined;
    const [name, value, extra] = term.split(/==?/);
    if (name === undefined || name === '' || extra !== undefined) return undefined;
    terms.set(name, value);
  }
  return terms;
}

function matches(
  labels: Record<string, string> | undefined,
  terms: ReadonlyMap<string, string | undefined>,
) {
  for (const [name, value] of terms) {
    const actual = labels?.[name];
    if (actual === undefined || (value !== undefined && actual !== value)) return false;
  }
  return true;
}

/** Whether an object carries the labels every watched object has (the watches' selector). */
function isWatched(object: LiveObject): boolean {
  const labels = object.metadata?.labels;
  return (
    labels?.[TENANT_LABEL] !== undefined && labels['app.kubernetes.io/managed-by'] === MANAGED_BY
  );
}

type FieldSet = Record<string, unknown>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deep equality of JSON values (list keys of `k:`/`v:` entries against list items). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => sameJson(a[key], b[key]));
  }
  return false;
}

/** Whether list item `item` (at `index`) is the one a `k:`, `v:` or `i:` field-set key names. */
function namesItem(key: string, item: unknown, index: number): boolean {
  const body = key.slice(2);
  if (key.startsWith('i:')) return Number(body) === index;
  const named = JSON.parse(body) as unknown;
  if (key.startsWith('v:')) return sameJson(named, item);
  // k: the item's key fields, e.g. {"name":"library"} or {"containerPort":8080,"protocol":"TCP"}.
  return (
    isRecord(named) &&
    isRecord(item) &&
    Object.entries(named).every(([field, value]) => sameJson(value, item[field]))
  );
}

/**
 * The part of `value` that the field set `fields` (a managedFields entry's `fieldsV1`) names:
 * `f:` object keys, `k:`/`v:`/`i:` list items, and whole values at its leaves (`{}`: a
 * scalar, an atomic list or map).
 */
export function projectFields(value: unknown, fields: FieldSet): unknown {
  const children = Object.keys(fields).filter((key) => key !== '.');
  if (children.length === 0) return value;
  if (Array.isArray(value)) {
    const projected: unknown[] = [];
    value.forEach((item, index) => {
      const key = children.find((candidate) => namesItem(candidate, item, index));
      if (key !== undefined) projected.push(projectFields(item, fields[key] as FieldSet));
    });
    return projected;
  }
  if (!isRecord(value)) return value;
  const projected: Record<string, unknown> = {};
  for (const key of children) {
    if (!key.startsWith('f:')) continue;
    const name = key.slice(2);
    if (name in value) projected[name] = projectFields(value[name], fields[key] as FieldSet);
  }
  return projected;
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  fieldsV1?: FieldSet;
}

/**
 * What of an object the cache keeps: the fields the operator applies and still owns (its
 * `Apply` entry in `metadata.managedFields`), the metadata that names it, and a Deployment's
 * `status.availableReplicas`. The drift check compares only what the operator sets, so this is
 * all it reads; a field someone else took over (an edit by hand moves ownership) is missing
 * here and reads as drift, which is what it is. Without an entry of the operator's, nothing
 * of the body is kept: everything reads as drift until the operator has applied it.
 */
export function compactObject(object: LiveObject, fieldManager = FIELD_MANAGER): LiveObject {
  const source = object as LiveObject & {
    status?: { availableReplicas?: number };
    metadata?: LiveObject['metadata'] & { managedFields?: ManagedFieldsEntry[] };
  };
  const metadata = source.metadata ?? {};
  const owned = metadata.managedFields?.find(
    (entry) => entry.manager === fieldManager && entry.operation === 'Apply',
  )?.fieldsV1;
  const projected = (owned ? projectFields(source, owned) : {}) as LiveObject;
  const ownedMetadata = isRecord(projected.metadata) ? projected.metadata : {};
  const compact: LiveObject = {
    ...projected,
    apiVersion: source.apiVersion,
    kind: source.kind,
    metadata: {
      ...ownedMetadata,
      name: metadata.name,
      ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
      ...(metadata.uid === undefined ? {} : { uid: metadata.uid }),
      ...(metadata.resourceVersion === undefined
        ? {}
        : { resourceVersion: metadata.resourceVersion }),
      ...(metadata.deletionTimestamp === undefined
        ? {}
        : { deletionTimestamp: metadata.deletionTimestamp }),
      // All labels: the cache indexes and selects by them.
      ...(metadata.labels === undefined ? {} : { labels: metadata.labels }),
    },
  };
  delete compact.status;
  if (source.kind === 'Deployment' && source.status?.availableReplicas !== undefined) {
    compact.status = { availableReplicas: source.status.availableReplicas };
  }
  return compact;
}

export function createTenantObjectCache(types: readonly ObjectType[]): TenantObjectCache {
  const watchedKinds = new Map(types.map((type) => [type.kind, type]));
  const synced = new Set<string>();
  const entries = new Map<string, Entry>();
  /** Keys by tenant slug, then kind: what a tenant's list reads. */
  const bySlug = new Map<string, Map<string, Set<string>>>();
  /** Deletions recorded, by key: a late event of the object before it went is ignored. */
  const tombstones = new Map<string, string>();

  const kindOf = (type: ObjectType) =>
    watchedKinds.get(type.kind)?.apiVersion === type.apiVersion ? type.kind : undefined;

  function index(key: string, object: LiveObject, add: boolean) {
    const slug = object.metadata?.labels?.[TENANT_LABEL];
    const kind = object.kind;
    if (slug === undefined || kind === undefined) return;
    let kinds = bySlug.get(slug);
    if (add) {
      if (!kinds) bySlug.set(slug, (kinds = new Map<string, Set<string>>()));
      let keys = kinds.get(kind);
      if (!keys) kinds.set(kind, (keys = new Set<string>()));
      keys.add(key);
      return;
    }
    const keys = kinds?.get(kind);
    keys?.delete(key);
    if (keys?.size === 0) kinds?.delete(kind);
    if (kinds?.size === 0) bySlug.delete(slug);
  }

  function put(key: string, object: LiveObject, resourceVersion: string) {
    const previous = entries.get(key);
    if (previous) index(key, previous.object, false);
    tombstones.delete(key);
    if (!isWatched(object)) {
      entries.delete(key);
      return;
    }
    entries.set(key, { object: compactObject(object), resourceVersion });
    index(key, object, true);
  }

  function drop(key: string) {
    const previous = entries.get(key);
    if (!previous) return;
    index(key, previous.object, false);
    entries.delete(key);
  }

  const slugOf = (object: LiveObject | undefined) => object?.metadata?.labels?.[TENANT_LABEL];

  return {
    list(type, labelSelector, namespace) {
      const kind = kindOf(type);
      if (kind === undefined || !synced.has(kind)) return undefined;
      const terms = parseSelector(labelSelector);
      // Answerable only if the selector asks for no more than the watches hold.
      const slug = terms?.get(TENANT_LABEL);
      if (
        !terms ||
        slug === undefined ||
        terms.get('app.kubernetes.io/managed-by') !== MANAGED_BY
      ) {
        return undefined;
      }
      const keys = bySlug.get(slug)?.get(kind) ?? new Set<string>();
      const result: LiveObject[] = [];
      for (const key of keys) {
        const object = entries.get(key)?.object;
        if (!object) continue;
        if (namespace !== undefined && object.metadata?.namespace !== namespace) continue;
        if (matches(object.metadata?.labels, terms)) result.push(object);
      }
      return result;
    },
    read(reference) {
      const kind = kindOf(reference);
      if (kind === undefined || !synced.has(kind)) return undefined;
      const entry = entries.get(keyOf(kind, reference.metadata.namespace, reference.metadata.name));
      return { object: entry?.object };
    },
    replace(type, items, listVersion) {
      const kind = kindOf(type);
      const changed = new Set<string>();
      if (kind === undefined) return changed;
      const listed = new Set<string>();
      for (const item of items) {
        const object = { ...item, apiVersion: type.apiVersion, kind };
        const key = keyOf(kind, object.metadata?.namespace, object.metadata?.name ?? '');
        listed.add(key);
        const held = entries.get(key);
        const version = object.metadata?.resourceVersion ?? listVersion;
        if (held && isOlder(version, held.resourceVersion)) continue;
        if (held?.resourceVersion !== version) {
          const slug = slugOf(object) ?? slugOf(held?.object);
          if (slug !== undefined) changed.add(slug);
        }
        put(key, object, version);
      }
      for (const [key, entry] of entries) {
        if (!key.startsWith(`${kind}/`) || listed.has(key)) continue;
        // Written after the list was taken: newer than the list, kept.
        if (isOlder(listVersion, entry.resourceVersion)) continue;
        const slug = slugOf(entry.object);
        if (slug !== undefined) changed.add(slug);
        drop(key);
      }
      synced.add(kind);
      return changed;
    },
    observe(type, event, item) {
      const kind = kindOf(type);
      if (kind === undefined) return undefined;
      const object = { ...item, apiVersion: type.apiVersion, kind };
      const key = keyOf(kind, object.metadata?.namespace, object.metadata?.name ?? '');
      const version = object.metadata?.resourceVersion;
      const held = entries.get(key);
      const slug = slugOf(object) ?? slugOf(held?.object);
      if (event === 'DELETED') {
        if (held && isOlder(version, held.resourceVersion)) return undefined;
        tombstones.delete(key);
        if (!held) return undefined;
        drop(key);
        return slug;
      }
      const tombstone = tombstones.get(key);
      if (tombstone !== undefined && !isOlder(tombstone, version)) return undefined;
      if (held && (held.resourceVersion === version || isOlder(version, held.resourceVersion))) {
        return undefined;
      }
      put(key, object, version ?? '');
      return slug;
    },
    recordApplied(object) {
      const kind = object.kind;
      if (kind === undefined || !watchedKinds.has(kind)) return;
      const key = keyOf(kind, object.metadata?.namespace, object.metadata?.name ?? '');
      const held = entries.get(key);
      const version = object.metadata?.resourceVersion ?? '';
      if (held && isOlder(version, held.resourceVersion)) return;
      put(key, object, version);
    },
    recordDeleted(reference, resourceVersion) {
      if (!watchedKinds.has(reference.kind)) return;
      const key = keyOf(reference.kind, reference.metadata.namespace, reference.metadata.name);
      const held = entries.get(key);
      drop(key);
      const version = resourceVersion ?? held?.resourceVersion;
      if (version !== undefined) tombstones.set(key, version);
    },
    clear() {
      synced.clear();
      entries.clear();
      bySlug.clear();
      tombstones.clear();
    },
    size: () => entries.size,
  };
}
