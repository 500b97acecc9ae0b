import type { ConditionReads } from './policy-conditions.ts';
import {
  entityKey,
  type AuthorizationRequest,
  type CedarEntity,
  type CedarEntityUid,
  type CedarValueJson,
} from './authorization-request.ts';

/**
 * The entities one decision hands to Cedar, and the ancestors policy slicing reads.
 *
 * cedar-wasm parses every entity it is given on every call (~8 µs per entity, ~3 µs per
 * parent, ~8–13 µs per entity-valued attribute), so only those a decision can reach are
 * passed: the principal, the resource and their ancestors (through parents); and, when a
 * condition reads the data of other entities (`resource.owner.email`, a literal's attribute,
 * see `ConditionReads.readsOtherEntities`), also the entities named by the context or by a
 * condition and — transitively — those their attributes and tags name, with their parents.
 * Cedar can reach no other entity (it reads attributes of entities it holds a uid of, and
 * ancestors through parents), so leaving the rest out cannot change an answer.
 */
export interface RequestEntityStore {
  /** The request's entity of this key, else the authorizer's. */
  lookup: (key: string) => CedarEntity | undefined;
  principalAncestors: ReadonlySet<string>;
  resourceAncestors: ReadonlySet<string>;
}

/** The authorizer's own entities by key; a request's entities take precedence over these. */
export type EntityIndex = ReadonlyMap<string, CedarEntity>;

/** Indexes entities by uid; throws on two entities with the same uid (Cedar refuses those). */
export function indexEntities(entities: readonly CedarEntity[]): Map<string, CedarEntity> {
  const index = new Map<string, CedarEntity>();
  for (const entity of entities) {
    const key = entityKey(entity.uid);
    if (index.has(key))
      throw new TypeError(`duplicate entity ${entity.uid.type}::"${entity.uid.id}"`);
    index.set(key, entity);
  }
  return index;
}

/** Every uid a Cedar JSON value names, as `{__entity: …}` or, schema-typed, as `{type, id}`. */
function collectReferences(value: CedarValueJson | undefined, into: CedarEntityUid[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectReferences(item, into);
    return;
  }
  const record = value as Record<string, CedarValueJson>;
  if (typeof record.type === 'string' && typeof record.id === 'string') {
    into.push({ type: record.type, id: record.id });
  }
  for (const member of Object.values(record)) collectReferences(member, into);
}

function referencesOf(entity: CedarEntity): CedarEntityUid[] {
  const found: CedarEntityUid[] = [...entity.parents];
  for (const value of Object.values(entity.attrs)) collectReferences(value, found);
  for (const value of Object.values(entity.tags ?? {})) collectReferences(value, found);
  return found;
}

type Lookup = RequestEntityStore['lookup'];

function ancestorsOf(uid: CedarEntityUid, lookup: Lookup): Set<string> {
  const ancestors = new Set<string>();
  const pending = [...(lookup(entityKey(uid))?.parents ?? [])];
  for (let parent = pending.pop(); parent !== undefined; parent = pending.pop()) {
    const key = entityKey(parent);
    if (ancestors.has(key)) continue;
    ancestors.add(key);
    pending.push(...(lookup(key)?.parents ?? []));
  }
  return ancestors;
}

/** The entities reachable from `roots` by `next` (parents, or parents and references). */
function reachable(
  roots: CedarEntityUid[],
  lookup: Lookup,
  next: (entity: CedarEntity) => CedarEntityUid[],
): CedarEntity[] {
  const seen = new Set<string>();
  const entities: CedarEntity[] = [];
  for (let uid = roots.pop(); uid !== undefined; uid = roots.pop()) {
    const key = entityKey(uid);
    if (seen.has(key)) continue;
    seen.add(key);
    const entity = lookup(key);
    if (entity === undefined) continue;
    entities.push(entity);
    roots.push(...next(entity));
  }
  return entities;
}

/**
 * The request's entities over the authorizer's (`index`), the request's winning on the same
 * uid, with the ancestors of its principal and resource.
 *
 * @throws TypeError when the request holds two entities with the same uid.
 */
export function requestEntityStore(
  request: AuthorizationRequest,
  index: EntityIndex,
): RequestEntityStore {
  const own = indexEntities(request.entities ?? []);
  const lookup: Lookup = (key) => own.get(key) ?? index.get(key);
  return {
    lookup,
    principalAncestors: ancestorsOf(request.principal, lookup),
    resourceAncestors: ancestorsOf(request.resource, lookup),
  };
}

/** The entities of `store` a decision of `request` under policies that read `reads` needs. */
export function entitiesForDecision(
  request: AuthorizationRequest,
  store: RequestEntityStore,
  reads: ConditionReads,
): CedarEntity[] {
  const roots = [request.principal, request.resource];
  if (!reads.readsOtherEntities) {
    return reachable(roots, store.lookup, (entity) => entity.parents);
  }
  roots.push(...reads.entities);
  for (const value of Object.values(request.context ?? {})) collectReferences(value, roots);
  return reachable(roots, store.lookup, referencesOf);
}
