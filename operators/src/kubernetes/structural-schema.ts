/**
 * From the JSON Schema zod writes (`z.toJSONSchema`) to a Kubernetes structural schema
 * (apiextensions.k8s.io/v1 `JSONSchemaProps`): every node typed, no `$ref`, no logical
 * junctors, no `additionalProperties: false` (the API server prunes unknown fields
 * instead), OpenAPI v3.0 bounds. A keyword the conversion does not know is an error, so
 * that a new kind of field in the contracts fails the generator instead of slipping
 * through untyped.
 */
import type { IJSONSchemaProps } from 'kubernetes-models/apiextensions.k8s.io/v1/JSONSchemaProps';

export type { IJSONSchemaProps };

export class StructuralSchemaError extends Error {
  constructor(path: string, message: string) {
    super(`${path || '<root>'}: ${message}`);
    this.name = 'StructuralSchemaError';
  }
}

type JsonSchemaNode = Readonly<Record<string, unknown>>;

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

/** Formats the API server validates (k8s.io/kube-openapi `strfmt`). */
const KUBERNETES_FORMATS = new Set([
  'bsonobjectid',
  'uri',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'cidr',
  'mac',
  'uuid',
  'uuid3',
  'uuid4',
  'uuid5',
  'isbn',
  'isbn10',
  'isbn13',
  'creditcard',
  'ssn',
  'hexcolor',
  'rgbcolor',
  'byte',
  'password',
  'date',
  'duration',
  'datetime',
  'date-time',
  'int32',
  'int64',
  'float',
  'double',
]);

/** Keywords copied as they are. */
const COPIED = [
  'description',
  'default',
  'enum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'required',
] as const;

/** Keywords that say nothing a structural schema needs. */
const IGNORED = new Set(['$schema', 'title']);

const HANDLED = new Set<string>([
  ...COPIED,
  'type',
  'properties',
  'additionalProperties',
  'propertyNames',
  'items',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'uniqueItems',
]);

function isNode(value: unknown): value is JsonSchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asNode(value: unknown, path: string): JsonSchemaNode {
  if (!isNode(value)) throw new StructuralSchemaError(path, 'not a schema object');
  return value;
}

/** zod's `.int()` bounds (±2^53−1) say only "a JavaScript number": they are dropped. */
function isSafeIntegerBound(value: unknown): boolean {
  return value === Number.MAX_SAFE_INTEGER || value === Number.MIN_SAFE_INTEGER;
}

/**
 * JSON Schema 2020-12 writes exclusive bounds as numbers, OpenAPI v3.0 as booleans beside
 * `minimum`/`maximum`; an exclusive integer bound becomes the next integer.
 */
function convertBounds(node: JsonSchemaNode, out: IJSONSchemaProps): void {
  const integer = node.type === 'integer';
  for (const side of ['minimum', 'maximum'] as const) {
    const inclusive = node[side];
    if (typeof inclusive === 'number' && !isSafeIntegerBound(inclusive)) out[side] = inclusive;
    const exclusiveKey = side === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum';
    const exclusive = node[exclusiveKey];
    if (typeof exclusive !== 'number' || isSafeIntegerBound(exclusive)) continue;
    if (integer) {
      out[side] = side === 'minimum' ? exclusive + 1 : exclusive - 1;
    } else {
      out[side] = exclusive;
      out[exclusiveKey] = true;
    }
  }
}

/**
 * zod writes a `pattern` beside each string format it checks itself (`date-time`…); the
 * API server checks the format, and such patterns use syntax RE2 may not accept.
 */
function convertString(node: JsonSchemaNode, out: IJSONSchemaProps, path: string): void {
  const format = node.format;
  if (typeof format === 'string') {
    if (!KUBERNETES_FORMATS.has(format)) {
      throw new StructuralSchemaError(path, `format ${format} is not one Kubernetes knows`);
    }
    out.format = format;
    return;
  }
  if (typeof node.pattern === 'string') out.pattern = node.pattern;
}

function convertObject(node: JsonSchemaNode, out: IJSONSchemaProps, path: string): void {
  if (node.properties !== undefined) {
    const properties = asNode(node.properties, `${path}.properties`);
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([key, child]) => [
        key,
        toStructuralSchema(child, `${path}.${key}`),
      ]),
    );
  }
  const additional = node.additionalProperties;
  if (isNode(additional)) {
    if (out.properties) {
      throw new StructuralSchemaError(path, 'properties and additionalProperties together');
    }
    out.additionalProperties = toStructuralSchema(additional, `${path}{}`);
  } else if (additional === true) {
    throw new StructuralSchemaError(path, 'open objects need x-kubernetes-preserve-unknown-fields');
  }
  const names = node.propertyNames;
  if (names !== undefined && !(isNode(names) && names.type === 'string')) {
    throw new StructuralSchemaError(path, 'propertyNames other than strings');
  }
}

function convertArray(node: JsonSchemaNode, out: IJSONSchemaProps, path: string): void {
  if (!isNode(node.items)) throw new StructuralSchemaError(path, 'arrays need one items schema');
  out.items = toStructuralSchema(node.items, `${path}[]`);
  // Kubernetes forbids uniqueItems (quadratic); a set-typed list says the same, linearly.
  if (node.uniqueItems === true) out['x-kubernetes-list-type'] = 'set';
}

/** Converts one node of zod's JSON Schema, and everything below it. */
export function toStructuralSchema(schema: unknown, path = ''): IJSONSchemaProps {
  const node = asNode(schema, path);
  const unknown = Object.keys(node).filter((key) => !HANDLED.has(key) && !IGNORED.has(key));
  if (unknown.length > 0) {
    throw new StructuralSchemaError(path, `unsupported keyword(s) ${unknown.join(', ')}`);
  }
  const type = node.type;
  if (typeof type !== 'string' || !TYPES.has(type)) {
    throw new StructuralSchemaError(path, 'every node needs one type');
  }
  const out: IJSONSchemaProps = { type };
  for (const key of COPIED) {
    if (node[key] !== undefined) Object.assign(out, { [key]: node[key] });
  }
  convertBounds(node, out);
  if (type === 'string') convertString(node, out, path);
  if (type === 'object') convertObject(node, out, path);
  if (type === 'array') convertArray(node, out, path);
  return out;
}

/** `a.b`, `list[]` (the list's items), `map{}` (the map's values). */
function schemaAt(root: IJSONSchemaProps, path: string): IJSONSchemaProps {
  let node = root;
  for (const segment of path.split('.')) {
    const name = segment.replace(/(\[\]|\{\})$/, '');
    const next = node.properties?.[name];
    if (!next) throw new StructuralSchemaError(path, `no property ${name}`);
    node = next;
    if (segment.endsWith('[]')) node = asNode(node.items, path);
    if (segment.endsWith('{}')) node = asNode(node.additionalProperties, path);
  }
  return node;
}

/**
 * Adds Kubernetes-only keywords (patterns, CEL rules, list types, defaults…) at the
 * given paths of a converted schema; a path that does not exist is an error. A property
 * given a default leaves its parent's `required` list: the API server fills it in.
 */
export function refineSchema(
  root: IJSONSchemaProps,
  refinements: Readonly<Record<string, IJSONSchemaProps>>,
): IJSONSchemaProps {
  const refined = structuredClone(root);
  for (const [path, extra] of Object.entries(refinements)) {
    Object.assign(schemaAt(refined, path), extra);
    if (extra.default === undefined) continue;
    const parentPath = path.split('.').slice(0, -1).join('.');
    const parent = parentPath === '' ? refined : schemaAt(refined, parentPath);
    const key = path.split('.').at(-1) ?? '';
    parent.required = parent.required?.filter((name) => name !== key);
    if (parent.required?.length === 0) delete parent.required;
  }
  return refined;
}
