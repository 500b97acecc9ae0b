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
 * parent, ~10–13 µs per entity-valued attribute), so only those a decision can reach are
 * passed: the principal, the resource, entities named by the context or by a policy
 * condition, and — transitively — their parents and the entities their attributes and tags
 * name. Cedar can reach no other entity (it reads attributes of entities it holds a uid of,
 * and ancestors through parents), so leaving the rest out cannot change an answer.
 */
export interface RequestEntities {
  entities: CedarEntity[];
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

type Lookup = (key: string) => CedarEntity | undefined;

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

function reachable(roots: CedarEntityUid[], lookup: Lookup): CedarEntity[] {
  const seen = new Set<string>();
  const entities: CedarEntity[] = [];
  for (let uid = roots.pop(); uid !== undefined; uid = roots.pop()) {
    const key = entityKey(uid);
    if (seen.has(key)) continue;
    seen.add(key);
    const entity = lookup(key);
    if (entity === undefined) continue;
    entities.push(entity);
    roots.push(...referencesOf(entity));
  }
  return entities;
}

/**
 * Picks the entities `request` needs from its own and the authorizer's (`index`), with the
 * request's winning on the same uid. `conditionEntities` are the entity literals of the
 * policies' conditions.
 *
 * @throws TypeError when the request holds two entities with the same uid.
 */
export function selectRequestEntities(
  request: AuthorizationRequest,
  index: EntityIndex,
  conditionEntities: readonly CedarEntityUid[],
): RequestEntities {
  const own = indexEntities(request.entities ?? []);
  const lookup: Lookup = (key) => own.get(key) ?? index.get(key);
  const roots = [request.principal, request.resource, ...conditionEntities];
  for (const value of Object.values(request.context ?? {})) collectReferences(value, roots);
  return {
    entities: reachable(roots, lookup),
    principalAncestors: ancestorsOf(request.principal, lookup),
    resourceAncestors: ancestorsOf(request.resource, lookup),
  };
}
