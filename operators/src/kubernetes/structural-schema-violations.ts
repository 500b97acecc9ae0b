/**
 * What the API server would refuse in a CRD's `openAPIV3Schema`, checked offline: the
 * structural-schema rules (every node typed, junctors only restating what is declared
 * outside them, metadata restricted only in name) and the apiextensions v1 rules this
 * project's schemas can meet (no `$ref`, properties xor additionalProperties, list types,
 * defaults that fit their schema).
 * See https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema
 */
import type { IJSONSchemaProps } from './structural-schema.ts';

type Schema = IJSONSchemaProps;

const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'] as const;
const FORBIDDEN = [
  '$ref',
  '$schema',
  'definitions',
  'dependencies',
  'additionalItems',
  'patternProperties',
  'id',
] as const;
/** Keywords a schema under a junctor may not set (structural rule 3). */
const FORBIDDEN_UNDER_JUNCTOR = [
  'description',
  'type',
  'default',
  'additionalProperties',
  'nullable',
] as const;
const LIST_TYPES = new Set(['atomic', 'set', 'map']);
const SCALAR_TYPES = new Set(['string', 'integer', 'number', 'boolean']);

interface Walk {
  violations: string[];
}

function isOpen(schema: Schema): boolean {
  return (
    schema['x-kubernetes-preserve-unknown-fields'] === true ||
    schema['x-kubernetes-int-or-string'] === true
  );
}

function asSchema(value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

function typeMatches(type: string | undefined, value: unknown): boolean {
  switch (type) {
    case 'object':
      return asSchema(value) !== undefined;
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'string':
    case 'boolean':
      return typeof value === type;
    default:
      return true;
  }
}

/** Whether `value` fits `schema`'s types, enums and object shape (enough for a default). */
export function valueFitsSchema(schema: Schema, value: unknown): boolean {
  if (!typeMatches(schema.type, value)) return false;
  if (schema.enum && !schema.enum.some((allowed) => allowed === value)) return false;
  if (Array.isArray(value)) {
    const items = asSchema(schema.items);
    return !items || value.every((item) => valueFitsSchema(items, item));
  }
  const object = asSchema(value);
  if (!object || schema.type !== 'object') return true;
  return Object.entries(object).every(([key, child]) => {
    const childSchema = schema.properties?.[key] ?? asSchema(schema.additionalProperties);
    return childSchema ? valueFitsSchema(childSchema, child) : isOpen(schema);
  });
}

type Rule = (schema: Schema) => string[];

const forbiddenKeywords: Rule = (schema) =>
  FORBIDDEN.filter((keyword) => schema[keyword] !== undefined).map(
    (keyword) => `${keyword} is not allowed`,
  );

const noUniqueItems: Rule = (schema) =>
  schema.uniqueItems === true
    ? ['uniqueItems is not allowed (use x-kubernetes-list-type: set)']
    : [];

const exclusiveProperties: Rule = (schema) => [
  ...(schema.properties && schema.additionalProperties !== undefined
    ? ['properties and additionalProperties are mutually exclusive']
    : []),
  ...(typeof schema.additionalProperties === 'boolean'
    ? ['additionalProperties must be a schema']
    : []),
];

const fittingValues: Rule = (schema) => [
  ...(schema.default !== undefined && !valueFitsSchema(schema, schema.default)
    ? ['default does not fit the schema']
    : []),
  ...(schema.enum ?? [])
    .filter((value) => !typeMatches(schema.type, value))
    .map((value) => `enum value ${JSON.stringify(value)} is not a ${schema.type ?? '?'}`),
];

function mapKeysRequired(items: Schema, keys: readonly string[]): boolean {
  return (
    items.type === 'object' &&
    keys.length > 0 &&
    keys.every((key) => {
      const property = items.properties?.[key];
      const present = items.required?.includes(key) === true || property?.default !== undefined;
      return SCALAR_TYPES.has(property?.type ?? '') && present;
    })
  );
}

function listItemsProblem(listType: string, items: Schema, keys: readonly string[]): string[] {
  if (listType === 'set' && !SCALAR_TYPES.has(items.type ?? '')) return ['a set must hold scalars'];
  if (listType === 'map' && !mapKeysRequired(items, keys)) {
    return ['list-type map needs required scalar map keys'];
  }
  return [];
}

const listTypes: Rule = (schema) => {
  const listType = schema['x-kubernetes-list-type'];
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  if (listType === undefined) return keys.length > 0 ? ['list-map-keys without list-type map'] : [];
  const items = asSchema(schema.items);
  if (schema.type !== 'array' || !LIST_TYPES.has(listType) || !items) {
    return [`x-kubernetes-list-type ${listType} on a non-list`];
  }
  return listItemsProblem(listType, items, keys);
};

const validationRules: Rule = (schema) =>
  (schema['x-kubernetes-validations'] ?? []).flatMap((rule, index) => [
    ...(rule.rule.trim() === '' ? [`validation ${index} has no rule`] : []),
    ...(rule.messageExpression === undefined && !rule.message
      ? [`validation ${index} has no message`]
      : []),
  ]);

const typed: Rule = (schema) => (!schema.type && !isOpen(schema) ? ['no type'] : []);

function junctorBranches(schema: Schema): Array<{ junctor: string; branch: Schema }> {
  return JUNCTORS.flatMap((junctor) => {
    const branches = junctor === 'not' ? [schema.not] : (schema[junctor] ?? []);
    return branches.flatMap((branch) => (branch ? [{ junctor, branch }] : []));
  });
}

/** Structural rules 2 and 3: a junctor restates, and only restates, what is declared outside it. */
const junctorsRestateOnly: Rule = (schema) =>
  junctorBranches(schema).flatMap(({ junctor, branch }) => [
    ...FORBIDDEN_UNDER_JUNCTOR.filter(
      (keyword) => branch[keyword] !== undefined && !schema['x-kubernetes-int-or-string'],
    ).map((keyword) => `${junctor}: ${keyword} is not allowed under a junctor`),
    ...Object.keys(branch.properties ?? {})
      .filter((key) => !schema.properties?.[key])
      .map((key) => `${junctor}: ${key} is not declared outside the junctor`),
  ]);

const NODE_RULES: readonly Rule[] = [
  typed,
  junctorsRestateOnly,
  forbiddenKeywords,
  noUniqueItems,
  exclusiveProperties,
  fittingValues,
  listTypes,
  validationRules,
];

function checkNode(schema: Schema, path: string, walk: Walk): void {
  for (const rule of NODE_RULES) {
    walk.violations.push(...rule(schema).map((message) => `${path || '<root>'}: ${message}`));
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    checkNode(child, `${path}.${key}`, walk);
  }
  const additional = asSchema(schema.additionalProperties);
  if (additional) checkNode(additional, `${path}{}`, walk);
  const items = asSchema(schema.items);
  if (items) checkNode(items, `${path}[]`, walk);
  if (Array.isArray(schema.items)) walk.violations.push(`${path}: items must be one schema`);
}

/** Structural rule 4: `metadata` may restrict `name` and `generateName` only. */
function checkMetadata(root: Schema, walk: Walk): void {
  const metadata = root.properties?.metadata;
  if (!metadata) return;
  if (metadata.type !== 'object') walk.violations.push('.metadata: must be of type object');
  const restricted = Object.keys(metadata.properties ?? {}).filter(
    (key) => key !== 'name' && key !== 'generateName',
  );
  const other = Object.keys(metadata).filter((key) => key !== 'type' && key !== 'properties');
  if (restricted.length > 0 || other.length > 0) {
    walk.violations.push(`.metadata: only name and generateName may be restricted`);
  }
}

/** Every reason the API server would refuse `root` as a CRD version's `openAPIV3Schema`. */
export function findStructuralSchemaViolations(root: Schema): string[] {
  const walk: Walk = { violations: [] };
  if (root.type !== 'object') walk.violations.push('<root>: must be of type object');
  checkMetadata(root, walk);
  checkNode(root, '', walk);
  return walk.violations;
}
