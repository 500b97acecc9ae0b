import { deleteKey, isJsonObject, type JsonObject } from './scim-attribute-path.ts';
import { badRequest } from './scim-error.ts';
import {
  COMMON_ATTRIBUTES,
  findAttribute,
  type ScimAttribute,
  type ScimResourceType,
} from './scim-schemas.ts';

/** Whether a client may write the attribute at all (readOnly values are ignored, RFC 7643 §7). */
function isWritable(definition: ScimAttribute): boolean {
  return definition.mutability !== 'readOnly';
}

function invalid(path: string, expected: string): never {
  throw badRequest('invalidValue', `"${path}" must be ${expected}.`);
}

/**
 * One value in the attribute's type. IdPs send booleans as "True"/"False" (Entra) and
 * numbers as strings: those are coerced; anything else of the wrong type is invalidValue.
 */
function normalizeScalar(definition: ScimAttribute, value: unknown, path: string): unknown {
  switch (definition.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
        return value.trim().toLowerCase() === 'true';
      return invalid(path, 'a boolean');
    case 'integer':
    case 'decimal': {
      const number = typeof value === 'string' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) return invalid(path, 'a number');
      if (definition.type === 'integer' && !Number.isInteger(number))
        return invalid(path, 'an integer');
      return number;
    }
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
        return invalid(path, 'an xsd:dateTime');
      return value;
    default:
      if (typeof value !== 'string') return invalid(path, 'a string');
      return value;
  }
}

/** A complex value: sub-attribute names made canonical, unknown and readOnly ones dropped. */
function normalizeComplex(definition: ScimAttribute, value: unknown, path: string): JsonObject {
  if (!isJsonObject(value)) return invalid(path, 'an object');
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const sub = findAttribute(definition.subAttributes ?? [], key);
    if (!sub || !isWritable(sub) || item === null || item === undefined) continue;
    result[sub.name] = normalizeScalar(sub, item, `${path}.${sub.name}`);
  }
  return result;
}

function normalizeSingle(definition: ScimAttribute, value: unknown, path: string): unknown {
  return definition.type === 'complex'
    ? normalizeComplex(definition, value, path)
    : normalizeScalar(definition, value, path);
}

/**
 * A value for `definition`, in canonical form; undefined means "no value" (null, empty
 * list). Multi-valued attributes accept a single value as a list of one.
 */
export function normalizeAttributeValue(
  definition: ScimAttribute,
  value: unknown,
  path = definition.name,
): unknown {
  if (value === null || value === undefined) return undefined;
  if (!definition.multiValued) {
    if (Array.isArray(value)) return invalid(path, 'a single value');
    return normalizeSingle(definition, value, path);
  }
  const items = (Array.isArray(value) ? (value as unknown[]) : [value])
    .filter((item) => item !== null && item !== undefined)
    .map((item) => normalizeSingle(definition, item, path));
  return items.length === 0 ? undefined : items;
}

function normalizeAttributes(
  attributes: readonly ScimAttribute[],
  source: JsonObject,
  target: JsonObject,
): void {
  for (const [key, value] of Object.entries(source)) {
    const definition = findAttribute(attributes, key);
    if (!definition || !isWritable(definition) || definition.mutability === 'writeOnly') continue;
    const normalized = normalizeAttributeValue(definition, value);
    if (normalized === undefined) deleteKey(target, definition.name);
    else target[definition.name] = normalized;
  }
}

/**
 * A client's resource as this server stores it: canonical attribute names, typed values,
 * extensions under their URN; `id`, `meta`, read-only attributes and passwords dropped
 * (this server keeps no passwords), unknown attributes ignored.
 */
export function normalizeResource(resourceType: ScimResourceType, body: unknown): JsonObject {
  if (!isJsonObject(body)) throw badRequest('invalidSyntax', 'The body must be a JSON object.');
  const resource: JsonObject = {};
  const core = Object.fromEntries(
    Object.entries(body).filter(([key]) => !key.toLowerCase().startsWith('urn:')),
  );
  normalizeAttributes([...COMMON_ATTRIBUTES, ...resourceType.schema.attributes], core, resource);
  for (const extension of resourceType.extensions) {
    const key = Object.keys(body).find((name) => name.toLowerCase() === extension.id.toLowerCase());
    const value = key === undefined ? undefined : body[key];
    if (value === undefined || value === null) continue;
    if (!isJsonObject(value)) invalid(extension.id, 'an object');
    const normalized: JsonObject = {};
    normalizeAttributes(extension.attributes, value, normalized);
    if (Object.keys(normalized).length > 0) resource[extension.id] = normalized;
  }
  return resource;
}

/** The `schemas` a stored resource declares: its core schema and the extensions it uses. */
export function schemasOf(resourceType: ScimResourceType, resource: JsonObject): string[] {
  return [
    resourceType.schema.id,
    ...resourceType.extensions
      .filter((extension) => resource[extension.id] !== undefined)
      .map((extension) => extension.id),
  ];
}

/** Requires the schema's required attributes (userName, displayName) to be present. */
export function requireAttributes(resourceType: ScimResourceType, resource: JsonObject): void {
  for (const definition of resourceType.schema.attributes) {
    const value = resource[definition.name];
    if (definition.required && (value === undefined || value === ''))
      throw badRequest('invalidValue', `"${definition.name}" is required.`);
  }
}
