import {
  asList,
  deleteKey,
  isJsonObject,
  resolveAttributePath,
  type JsonObject,
  type ResolvedAttribute,
} from './scim-attribute-path.ts';
import { badRequest } from './scim-error.ts';
import {
  compileValueFilter,
  parseFilter,
  requiredEqualities,
  type ScimPredicate,
} from './scim-filter.ts';
import { normalizeAttributeValue } from './scim-resource-normalizer.ts';
import { findAttribute, type ScimResourceType } from './scim-schemas.ts';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** One PATCH operation; op names arrive in any case ("Replace" from Entra) and are lower-cased. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string | undefined;
  value: unknown;
}

/** A PATCH path resolved: attribute, optional value filter, optional sub-attribute. */
export interface PatchTarget extends ResolvedAttribute {
  filter: ScimPredicate | undefined;
  /** `type eq "work"` of the filter: what a new element gets when a replace matches none. */
  filterEqualities: JsonObject;
}

/** Validates a PatchOp message (RFC 7644 §3.5.2) and returns its operations. */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isJsonObject(body)) throw badRequest('invalidSyntax', 'The body must be a PatchOp object.');
  const schemas = asList(body.schemas);
  if (!schemas.some((schema) => typeof schema === 'string' && schema === PATCH_OP_SCHEMA))
    throw badRequest('invalidSyntax', `"schemas" must contain "${PATCH_OP_SCHEMA}".`);
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0)
    throw badRequest('invalidSyntax', '"Operations" must be a non-empty array.');
  return (operations as unknown[]).map((operation, index) => {
    if (!isJsonObject(operation))
      throw badRequest('invalidSyntax', `Operation ${index} is not an object.`);
    const op = typeof operation.op === 'string' ? operation.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw badRequest('invalidSyntax', `Operation ${index}: "op" must be add, remove or replace.`);
    const path = operation.path;
    if (path !== undefined && (typeof path !== 'string' || path.trim() === ''))
      throw badRequest('invalidPath', `Operation ${index}: "path" must be a non-empty string.`);
    if (op !== 'remove' && operation.value === undefined)
      throw badRequest('invalidValue', `Operation ${index}: "${op}" needs a "value".`);
    return { op, path: path?.trim(), value: operation.value };
  });
}

function invalidPath(path: string): never {
  throw badRequest('invalidPath', `"${path}" is not a valid attribute path.`);
}

/** Parses `attr`, `attr.sub`, `urn:…:attr`, `attr[filter]` and `attr[filter].sub`. */
export function parsePatchPath(resourceType: ScimResourceType, path: string): PatchTarget {
  const open = path.indexOf('[');
  if (open === -1) {
    const resolved = resolveAttributePath(resourceType, path) ?? invalidPath(path);
    return { ...resolved, filter: undefined, filterEqualities: {} };
  }
  const close = path.lastIndexOf(']');
  const after = path.slice(close + 1);
  if (close < open || (after !== '' && !after.startsWith('.'))) invalidPath(path);
  const resolved = resolveAttributePath(resourceType, path.slice(0, open)) ?? invalidPath(path);
  const { attribute } = resolved;
  if (resolved.subAttribute || attribute.type !== 'complex' || !attribute.multiValued)
    invalidPath(path);
  const subAttribute =
    after === ''
      ? undefined
      : (findAttribute(attribute.subAttributes ?? [], after.slice(1)) ?? invalidPath(path));
  let filter: ScimPredicate;
  let filterEqualities: JsonObject;
  try {
    const ast = parseFilter(path.slice(open + 1, close));
    filter = compileValueFilter(ast, attribute);
    filterEqualities = Object.fromEntries(
      [...requiredEqualities(ast)].flatMap(([name, value]) => {
        const sub = findAttribute(attribute.subAttributes ?? [], name);
        return sub ? [[sub.name, value]] : [];
      }),
    );
  } catch {
    return invalidPath(path);
  }
  return { ...resolved, subAttribute, filter, filterEqualities };
}

/** The object holding the target: the resource or its extension object (created on write). */
function containerFor(resource: JsonObject, target: PatchTarget): JsonObject {
  if (target.extension === undefined) return resource;
  const existing = resource[target.extension];
  if (isJsonObject(existing)) return existing;
  const created: JsonObject = {};
  resource[target.extension] = created;
  return created;
}

function sameValue(left: unknown, right: unknown): boolean {
  if (isJsonObject(left) && isJsonObject(right) && 'value' in left && 'value' in right)
    return left.value === right.value;
  return JSON.stringify(left) === JSON.stringify(right);
}

/** Adds values to a multi-valued attribute, skipping ones already there (add is idempotent). */
function appendValues(existing: unknown[], added: unknown[]): unknown[] {
  const result = [...existing];
  for (const value of added) if (!result.some((item) => sameValue(item, value))) result.push(value);
  return result;
}

function setOrDelete(container: JsonObject, name: string, value: unknown): void {
  const empty = value === undefined || (Array.isArray(value) && value.length === 0);
  if (empty) deleteKey(container, name);
  else container[name] = value;
}

function applyWhole(container: JsonObject, target: PatchTarget, operation: PatchOperation): void {
  const { attribute } = target;
  const name = attribute.name;
  if (operation.op === 'remove') {
    if (operation.value !== undefined && attribute.multiValued) {
      const removed = asList(normalizeAttributeValue(attribute, operation.value));
      const kept = asList(container[name]).filter(
        (item) => !removed.some((gone) => sameValue(item, gone)),
      );
      setOrDelete(container, name, kept);
    } else deleteKey(container, name);
    return;
  }
  const value = normalizeAttributeValue(attribute, operation.value);
  if (attribute.multiValued) {
    const existing = operation.op === 'add' ? asList(container[name]) : [];
    setOrDelete(container, name, appendValues(existing, asList(value)));
  } else if (attribute.type === 'complex' && isJsonObject(value)) {
    // Sub-attributes not named in the value are kept (RFC 7644 §3.5.2.1 and .3).
    const existing = isJsonObject(container[name]) ? container[name] : {};
    setOrDelete(container, name, { ...existing, ...value });
  } else setOrDelete(container, name, value);
}

function applySub(container: JsonObject, target: PatchTarget, operation: PatchOperation): void {
  const { attribute } = target;
  const sub = target.subAttribute;
  if (!sub) return;
  const value =
    operation.op === 'remove'
      ? undefined
      : normalizeAttributeValue(sub, operation.value, `${attribute.name}.${sub.name}`);
  if (attribute.multiValued) {
    const items = asList(container[attribute.name]).filter(isJsonObject);
    if (items.length === 0 && value !== undefined) items.push({});
    for (const item of items) setOrDelete(item, sub.name, value);
    setOrDelete(container, attribute.name, items);
    return;
  }
  const object = isJsonObject(container[attribute.name])
    ? (container[attribute.name] as JsonObject)
    : {};
  setOrDelete(object, sub.name, value);
  setOrDelete(container, attribute.name, Object.keys(object).length === 0 ? undefined : object);
}

/** Writes a value into one element a value filter matched. */
function writeMatched(
  item: JsonObject,
  subName: string | undefined,
  value: unknown,
  op: PatchOperation['op'],
): void {
  if (subName !== undefined) {
    setOrDelete(item, subName, value);
    return;
  }
  if (!isJsonObject(value)) return;
  if (op === 'replace') Object.keys(item).forEach((key) => deleteKey(item, key));
  Object.assign(item, value);
}

function applyFiltered(
  container: JsonObject,
  target: PatchTarget,
  operation: PatchOperation,
): void {
  const { attribute, subAttribute, filter } = target;
  if (!filter) return;
  const items = asList(container[attribute.name]).filter(isJsonObject);
  const matched = items.filter((item) => filter(item));
  if (operation.op === 'remove') {
    if (subAttribute) matched.forEach((item) => deleteKey(item, subAttribute.name));
    const kept = subAttribute ? items : items.filter((item) => !matched.includes(item));
    setOrDelete(container, attribute.name, kept);
    return;
  }
  const value = subAttribute
    ? normalizeAttributeValue(subAttribute, operation.value)
    : normalizeAttributeValue({ ...attribute, multiValued: false }, operation.value);
  if (matched.length === 0) {
    // Entra replaces `emails[type eq "work"].value` on users without a work email: create it;
    // any other filter that matches nothing is noTarget (RFC 7644 §3.5.2.3).
    if (Object.keys(target.filterEqualities).join() !== 'type')
      throw badRequest('noTarget', `No value of "${attribute.name}" matches the filter.`);
    const created: JsonObject = { ...target.filterEqualities };
    items.push(created);
    matched.push(created);
  }
  for (const item of matched) writeMatched(item, subAttribute?.name, value, operation.op);
  setOrDelete(container, attribute.name, items);
}

/** Applies one operation with a path to `resource` in place. */
export function applyPathOperation(
  resourceType: ScimResourceType,
  resource: JsonObject,
  operation: PatchOperation & { path: string },
): void {
  const target = parsePatchPath(resourceType, operation.path);
  const mutability = (target.subAttribute ?? target.attribute).mutability;
  if (target.attribute.mutability === 'readOnly' || mutability === 'readOnly')
    throw badRequest('mutability', `"${operation.path}" is read-only.`);
  const container = containerFor(resource, target);
  if (target.filter) applyFiltered(container, target, operation);
  else if (target.subAttribute) applySub(container, target, operation);
  else applyWhole(container, target, operation);
}

/**
 * The `{path, value}` pairs of a path-less add/replace: each key of the value object is a
 * path (an extension URN key spreads into its attributes); `schemas`, read-only and
 * unknown keys are ignored, as Okta sends `id` and `schemas` there.
 */
export function expandPathless(
  resourceType: ScimResourceType,
  operation: PatchOperation,
): Array<PatchOperation & { path: string }> {
  if (operation.op === 'remove') throw badRequest('noTarget', 'A remove operation needs a "path".');
  if (!isJsonObject(operation.value))
    throw badRequest('invalidValue', 'A path-less operation needs an object "value".');
  const expanded: Array<PatchOperation & { path: string }> = [];
  for (const [key, value] of Object.entries(operation.value)) {
    const extension = resourceType.extensions.find(
      (schema) => schema.id.toLowerCase() === key.toLowerCase(),
    );
    if (extension && isJsonObject(value)) {
      for (const [name, item] of Object.entries(value))
        expanded.push({ op: operation.op, path: `${extension.id}:${name}`, value: item });
      continue;
    }
    const resolved = resolveAttributePath(resourceType, key);
    if (!resolved || resolved.attribute.mutability === 'readOnly') continue;
    expanded.push({ op: operation.op, path: key, value });
  }
  return expanded;
}

/** Applies PATCH operations to a copy of `resource`; the caller re-validates the result. */
export function applyPatch(
  resourceType: ScimResourceType,
  resource: JsonObject,
  operations: PatchOperation[],
): JsonObject {
  const result = structuredClone(resource);
  for (const operation of operations) {
    const steps =
      operation.path === undefined
        ? expandPathless(resourceType, operation)
        : [{ ...operation, path: operation.path }];
    for (const step of steps) applyPathOperation(resourceType, result, step);
  }
  return result;
}
