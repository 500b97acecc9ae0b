import {
  COMMON_ATTRIBUTES,
  findAttribute,
  type ScimAttribute,
  type ScimResourceType,
} from './scim-schemas.ts';

/** A JSON object as SCIM resources are stored and served. */
export type JsonObject = Record<string, unknown>;

/** An attribute path resolved against a resource type's schemas. */
export interface ResolvedAttribute {
  /** The extension schema URN when the attribute belongs to an extension. */
  extension: string | undefined;
  attribute: ScimAttribute;
  subAttribute: ScimAttribute | undefined;
}

/** True for a plain (non-array) JSON object. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Removes `key` from `object` (attribute names are data here, hence computed keys). */
export function deleteKey(object: JsonObject, key: string): void {
  Reflect.deleteProperty(object, key);
}

/** `value` as a list: arrays as they are, absent values as none, anything else as one. */
export function asList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value as unknown[];
  return value === undefined || value === null ? [] : [value];
}

/** Splits a fully qualified path into its schema URN and the attribute path after it. */
function splitSchema(
  resourceType: ScimResourceType,
  path: string,
): { extension: string | undefined; attributes: ScimAttribute[]; rest: string } | undefined {
  const lower = path.toLowerCase();
  if (!lower.startsWith('urn:')) {
    return {
      extension: undefined,
      attributes: [...COMMON_ATTRIBUTES, ...resourceType.schema.attributes],
      rest: path,
    };
  }
  if (lower.startsWith(`${resourceType.schema.id.toLowerCase()}:`)) {
    return {
      extension: undefined,
      attributes: [...COMMON_ATTRIBUTES, ...resourceType.schema.attributes],
      rest: path.slice(resourceType.schema.id.length + 1),
    };
  }
  const extension = resourceType.extensions.find((schema) =>
    lower.startsWith(`${schema.id.toLowerCase()}:`),
  );
  if (!extension) return undefined;
  return {
    extension: extension.id,
    attributes: extension.attributes,
    rest: path.slice(extension.id.length + 1),
  };
}

/**
 * Resolves `name`, `name.sub`, `urn:…:name` or `urn:…:name.sub` (attribute names are
 * case-insensitive, RFC 7643 §2.1); undefined when the schema has no such attribute.
 */
export function resolveAttributePath(
  resourceType: ScimResourceType,
  path: string,
): ResolvedAttribute | undefined {
  const split = splitSchema(resourceType, path);
  if (!split) return undefined;
  const [name = '', subName, ...extra] = split.rest.split('.');
  if (extra.length > 0) return undefined;
  const attribute = findAttribute(split.attributes, name);
  if (!attribute) return undefined;
  if (subName === undefined)
    return { extension: split.extension, attribute, subAttribute: undefined };
  const subAttribute = findAttribute(attribute.subAttributes ?? [], subName);
  return subAttribute ? { extension: split.extension, attribute, subAttribute } : undefined;
}

/** The object that holds the resolved attribute: the resource or its extension object. */
export function containerOf(resource: JsonObject, extension: string | undefined): unknown {
  return extension === undefined ? resource : resource[extension];
}

/** Every value at a resolved path, multi-valued attributes flattened. */
export function valuesAt(resource: JsonObject, resolved: ResolvedAttribute): unknown[] {
  const container = containerOf(resource, resolved.extension);
  if (!isJsonObject(container)) return [];
  const items = asList(container[resolved.attribute.name]);
  const sub = resolved.subAttribute;
  if (sub === undefined) return items;
  return items.flatMap((item) => (isJsonObject(item) ? asList(item[sub.name]) : []));
}
