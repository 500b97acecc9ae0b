import type { SchemaJson } from '@cedar-policy/cedar-wasm/nodejs';
import { entityKey, type CedarEntityUid, type CedarValueJson } from './authorization-request.ts';

/**
 * What the schema says of attributes, for trimming what a decision hands Cedar (see
 * cedar-input-pruning.ts): which attributes may be left out — optional ones of a simple type
 * (string, long, boolean, one entity), with the check Cedar would make of their value — and
 * which hold one entity reference (which the schema lets be written `{type, id}`, cheaper
 * for Cedar to read than `{__entity: {type, id}}`). Read from Cedar's JSON form of the
 * schema; what this reader cannot resolve gets no rule, and is passed to Cedar as it is.
 */
export interface SchemaAttributes {
  entityType(type: string): AttributeRules | undefined;
  /** The rules of the context of `action`. */
  contextOf(action: CedarEntityUid): AttributeRules | undefined;
}

export interface AttributeRules {
  /** Optional attributes of a simple type, with whether a value conforms to that type. */
  optional: ReadonlyMap<string, (value: CedarValueJson) => boolean>;
  /** Attributes that hold one entity reference. */
  entityValued: ReadonlySet<string>;
  /** Whether some attribute is required (an entity with none is then refused). */
  requiresAttributes: boolean;
}

interface TypeJson {
  type?: unknown;
  name?: unknown;
  required?: unknown;
  attributes?: Record<string, TypeJson>;
}

interface NamespaceJson {
  commonTypes?: Record<string, TypeJson>;
  entityTypes?: Record<string, { shape?: TypeJson }>;
  actions?: Record<string, { appliesTo?: { context?: TypeJson } }>;
}

type Namespaces = Record<string, NamespaceJson>;

function qualified(namespace: string, name: string): string {
  return namespace === '' ? name : `${namespace}::${name}`;
}

/** `name` as written in `namespace`: there first, then in the empty namespace. */
function lookUp<T>(
  json: Namespaces,
  namespace: string,
  name: string,
  pick: (definition: NamespaceJson) => Record<string, T> | undefined,
): T | undefined {
  if (name.includes('::')) {
    const split = name.lastIndexOf('::');
    return pick(json[name.slice(0, split)] ?? {})?.[name.slice(split + 2)];
  }
  return pick(json[namespace] ?? {})?.[name] ?? pick(json[''] ?? {})?.[name];
}

/** A reference to a common type: `{type: "Name"}`, `{type: "EntityOrCommon", name}`… */
function referencedName(type: TypeJson): string | undefined {
  if (type.type === 'EntityOrCommon' || type.type === 'CommonType') {
    return typeof type.name === 'string' ? type.name : undefined;
  }
  const builtIn = ['Record', 'Set', 'Entity', 'Extension', 'String', 'Long', 'Boolean', 'Bool'];
  return typeof type.type === 'string' && !builtIn.includes(type.type) ? type.type : undefined;
}

function recordOf(json: Namespaces, namespace: string, type: TypeJson | undefined) {
  if (type === undefined) return undefined;
  if (type.type === 'Record') return type.attributes;
  const name = referencedName(type);
  const common =
    name === undefined ? undefined : lookUp(json, namespace, name, (d) => d.commonTypes);
  return common?.type === 'Record' ? common.attributes : undefined;
}

/** The full name of the entity type `name` stands for in `namespace`, if any. */
function entityTypeNamed(json: Namespaces, namespace: string, name: string): string | undefined {
  if (name.includes('::')) {
    return lookUp(json, namespace, name, (d) => d.entityTypes) === undefined ? undefined : name;
  }
  if (json[namespace]?.entityTypes?.[name] !== undefined) return qualified(namespace, name);
  return json['']?.entityTypes?.[name] === undefined ? undefined : name;
}

/** The entity type an attribute of this type refers to (common types never: they may be anything). */
function referencedEntityType(json: Namespaces, namespace: string, type: TypeJson) {
  if (typeof type.name !== 'string') return undefined;
  if (type.type === 'Entity') return entityTypeNamed(json, namespace, type.name);
  if (type.type !== 'EntityOrCommon') return undefined;
  if (lookUp(json, namespace, type.name, (d) => d.commonTypes) !== undefined) return undefined;
  return entityTypeNamed(json, namespace, type.name);
}

const PRIMITIVE_CHECKS: Readonly<Record<string, (value: CedarValueJson) => boolean>> = {
  String: (value) => typeof value === 'string',
  Long: (value) => typeof value === 'number' && Number.isSafeInteger(value),
  Bool: (value) => typeof value === 'boolean',
  Boolean: (value) => typeof value === 'boolean',
};

function isReferenceTo(entityType: string, value: CedarValueJson): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const escaped = (value as { __entity?: CedarValueJson }).__entity;
  const uid = (Object.keys(value).length === 1 ? escaped : value) as Record<string, unknown> | null;
  return (
    typeof uid === 'object' &&
    uid !== null &&
    Object.keys(uid).length === 2 &&
    uid.type === entityType &&
    typeof uid.id === 'string'
  );
}

/** How to tell a value conforms to this type, for the simple types; undefined for others. */
function conformanceCheck(json: Namespaces, namespace: string, type: TypeJson) {
  const entityType = referencedEntityType(json, namespace, type);
  if (entityType !== undefined) return (value: CedarValueJson) => isReferenceTo(entityType, value);
  const primitive = type.type === 'EntityOrCommon' ? type.name : type.type;
  if (typeof primitive !== 'string' || !Object.hasOwn(PRIMITIVE_CHECKS, primitive))
    return undefined;
  // A common or entity type of that name would shadow the primitive.
  if (lookUp(json, namespace, primitive, (d) => d.commonTypes) !== undefined) return undefined;
  if (entityTypeNamed(json, namespace, primitive) !== undefined) return undefined;
  return PRIMITIVE_CHECKS[primitive];
}

function rulesOf(
  json: Namespaces,
  namespace: string,
  record: Record<string, TypeJson> | undefined,
): AttributeRules | undefined {
  if (record === undefined) return undefined;
  const optional = new Map<string, (value: CedarValueJson) => boolean>();
  const entityValued = new Set<string>();
  let requiresAttributes = false;
  for (const [name, type] of Object.entries(record)) {
    if (type.required !== false) requiresAttributes = true;
    if (referencedEntityType(json, namespace, type) !== undefined) entityValued.add(name);
    const check = type.required === false ? conformanceCheck(json, namespace, type) : undefined;
    if (check !== undefined) optional.set(name, check);
  }
  return { optional, entityValued, requiresAttributes };
}

/** Reads the attribute rules of a schema from Cedar's JSON form of it (`schemaToJson`). */
export function readSchemaAttributes(schema: SchemaJson<string>): SchemaAttributes {
  const json = schema as Namespaces;
  const entityTypes = new Map<string, AttributeRules | undefined>();
  const contexts = new Map<string, AttributeRules | undefined>();
  for (const [namespace, definition] of Object.entries(json)) {
    for (const [name, entityType] of Object.entries(definition.entityTypes ?? {})) {
      // No shape: the type has no attributes.
      const record =
        entityType.shape === undefined ? {} : recordOf(json, namespace, entityType.shape);
      entityTypes.set(qualified(namespace, name), rulesOf(json, namespace, record));
    }
    for (const [id, action] of Object.entries(definition.actions ?? {})) {
      const context = action.appliesTo?.context;
      const record = context === undefined ? {} : recordOf(json, namespace, context);
      const type = qualified(namespace, 'Action');
      contexts.set(entityKey({ type, id }), rulesOf(json, namespace, record));
    }
  }
  return {
    entityType: (type) => entityTypes.get(type),
    contextOf: (action) => contexts.get(entityKey(action)),
  };
}
