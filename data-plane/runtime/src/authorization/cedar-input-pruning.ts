import type { CedarEntity, CedarValueJson } from './authorization-request.ts';
import type { ConditionReads } from './policy-conditions.ts';
import type { AttributeRules, SchemaAttributes } from './schema-attributes.ts';

/**
 * Trims what a decision hands Cedar to what the policies it evaluates can observe.
 * cedar-wasm parses and type-checks every attribute of every entity and of the context on
 * every call (~5–8 µs an attribute), so:
 *
 * - an optional attribute no condition of those policies names (`e.name`, `e has name`) is
 *   left out: Cedar cannot list an entity's attributes nor compare entities but by uid, so
 *   no policy can tell (for the context: unless a condition uses `context` as a whole). Its
 *   value is first checked here as Cedar would check it (simple types only: others always
 *   go to Cedar); one that does not conform is passed, so Cedar still refuses the request.
 *   Required and undeclared attributes always go to Cedar.
 * - `{__entity: {type, id}}` in an attribute the schema types as one entity is written
 *   `{type, id}`, which Cedar reads as the same reference, faster.
 * - an entity left with no attributes, parents or tags (a role, say) is not passed at all:
 *   to Cedar it is then the same as an entity that has none (`has` is false, `in` holds
 *   only for itself, reading an attribute fails, with another message) — unless its type
 *   requires attributes, when Cedar must see it to refuse it.
 */
function prunedAttributes(
  attrs: Record<string, CedarValueJson>,
  rules: AttributeRules | undefined,
  isRead: (name: string) => boolean,
): Record<string, CedarValueJson> {
  if (rules === undefined) return attrs;
  const pruned: Record<string, CedarValueJson> = {};
  for (const [name, value] of Object.entries(attrs)) {
    if (!isRead(name) && rules.optional.get(name)?.(value) === true) continue;
    pruned[name] = rules.entityValued.has(name) ? bareReference(value) : value;
  }
  return pruned;
}

/** `{__entity: {type, id}}` as `{type, id}`; any other value as it is. */
function bareReference(value: CedarValueJson): CedarValueJson {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const reference = (value as { __entity?: { type?: unknown; id?: unknown } }).__entity;
  if (keys.length !== 1 || typeof reference?.type !== 'string') return value;
  return typeof reference.id === 'string' ? { type: reference.type, id: reference.id } : value;
}

function isBare(entity: CedarEntity, rules: AttributeRules | undefined): boolean {
  return (
    rules?.requiresAttributes === false &&
    entity.parents.length === 0 &&
    Object.keys(entity.attrs).length === 0 &&
    (entity.tags === undefined || Object.keys(entity.tags).length === 0)
  );
}

export function prunedEntities(
  entities: readonly CedarEntity[],
  schema: SchemaAttributes,
  reads: ConditionReads,
): CedarEntity[] {
  const isRead = (name: string) => reads.attributes.has(name);
  const pruned: CedarEntity[] = [];
  for (const entity of entities) {
    const rules = schema.entityType(entity.uid.type);
    const kept = { ...entity, attrs: prunedAttributes(entity.attrs, rules, isRead) };
    if (!isBare(kept, rules)) pruned.push(kept);
  }
  return pruned;
}

export function prunedContext(
  context: Record<string, CedarValueJson>,
  rules: AttributeRules | undefined,
  reads: ConditionReads,
): Record<string, CedarValueJson> {
  const isRead = (name: string) => reads.wholeContext || reads.attributes.has(name);
  return prunedAttributes(context, rules, isRead);
}
