import type { Filter } from 'scim2-parse-filter';
import {
  asList,
  deleteKey,
  isJsonObject,
  resolveAttributePath,
  valuesAt,
  type JsonObject,
  type ResolvedAttribute,
} from './scim-attribute-path.ts';
import { badRequest } from './scim-error.ts';
import type { ScimResourceType } from './scim-schemas.ts';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
/** The most resources one page returns (advertised in ServiceProviderConfig). */
export const MAX_PAGE_SIZE = 200;

/** A list request's query parameters, parsed. */
export interface ScimListQuery {
  filter: string | undefined;
  startIndex: number;
  count: number;
  sortBy: string | undefined;
  sortOrder: 'ascending' | 'descending';
  attributes: string[];
  excludedAttributes: string[];
}

function integerParameter(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const number = typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isInteger(number)) throw badRequest('invalidValue', `"${name}" must be an integer.`);
  return number;
}

function listParameter(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function stringParameter(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest('invalidValue', `"${name}" must be given once.`);
  return value;
}

/** Parses `filter`, `startIndex`, `count` (1-based, capped), `sortBy`, `sortOrder`, projections. */
export function parseListQuery(query: Record<string, unknown>): ScimListQuery {
  // startIndex below 1 is read as 1 and a negative count as 0 (RFC 7644 §3.4.2.4).
  const startIndex = Math.max(1, integerParameter(query.startIndex, 'startIndex', 1));
  const count = Math.min(
    MAX_PAGE_SIZE,
    Math.max(0, integerParameter(query.count, 'count', MAX_PAGE_SIZE)),
  );
  const sortOrder = stringParameter(query.sortOrder, 'sortOrder')?.toLowerCase() ?? 'ascending';
  if (sortOrder !== 'ascending' && sortOrder !== 'descending')
    throw badRequest('invalidValue', '"sortOrder" must be ascending or descending.');
  return {
    filter: stringParameter(query.filter, 'filter'),
    startIndex,
    count,
    sortBy: stringParameter(query.sortBy, 'sortBy'),
    sortOrder,
    attributes: listParameter(query.attributes),
    excludedAttributes: listParameter(query.excludedAttributes),
  };
}

/**
 * A listing a repository may answer itself (in SQL): the parsed filter, the resolved sort
 * attribute and the page. Filter and sort are already validated against the schema.
 */
export interface ScimSearch {
  filter: Filter | undefined;
  sortBy: ResolvedAttribute | undefined;
  sortOrder: 'ascending' | 'descending';
  startIndex: number;
  count: number;
}

/** One page of a search and how many resources matched in all. */
export interface ScimSearchPage<T> {
  records: T[];
  totalResults: number;
}

/** The attribute `sortBy` names; 400 `invalidValue` when the schema has none. */
export function resolveSortAttribute(
  resourceType: ScimResourceType,
  sortBy: string,
): ResolvedAttribute {
  const resolved = resolveAttributePath(resourceType, sortBy);
  if (!resolved)
    throw badRequest('invalidValue', `"sortBy" names an unknown attribute "${sortBy}".`);
  return resolved;
}

/** The search a list query asks for, with its filter parsed and its sort attribute resolved. */
export function searchOf(
  resourceType: ScimResourceType,
  query: ScimListQuery,
  filter: Filter | undefined,
): ScimSearch {
  return {
    filter,
    sortBy:
      query.sortBy === undefined ? undefined : resolveSortAttribute(resourceType, query.sortBy),
    sortOrder: query.sortOrder,
    startIndex: query.startIndex,
    count: query.count,
  };
}

type SortKey = string | number | boolean | undefined;

function sortKey(resource: JsonObject, resolved: ResolvedAttribute): SortKey {
  const values = valuesAt(resource, resolved);
  // Multi-valued attributes sort by their primary value, else their first (RFC 7644 §3.4.2.3).
  const chosen = values.find((value) => isJsonObject(value) && value.primary === true) ?? values[0];
  const value = isJsonObject(chosen) ? chosen.value : chosen;
  const definition = resolved.subAttribute ?? resolved.attribute;
  if (typeof value === 'string') {
    if (definition.type === 'dateTime') return Date.parse(value);
    return definition.caseExact ? value : value.toLowerCase();
  }
  return typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

/** Sorts resources by `sortBy`; resources without a value sort last when ascending. */
export function sortResources(
  resourceType: ScimResourceType,
  resources: JsonObject[],
  sortBy: string,
  sortOrder: 'ascending' | 'descending',
): JsonObject[] {
  const resolved = resolveSortAttribute(resourceType, sortBy);
  const keyed = resources.map((resource) => ({ resource, key: sortKey(resource, resolved) }));
  const direction = sortOrder === 'ascending' ? 1 : -1;
  keyed.sort((left, right) => {
    if (left.key === right.key) return 0;
    if (left.key === undefined) return direction;
    if (right.key === undefined) return -direction;
    return (left.key < right.key ? -1 : 1) * direction;
  });
  return keyed.map((entry) => entry.resource);
}

function copyAttribute(source: JsonObject, target: JsonObject, resolved: ResolvedAttribute): void {
  const from = resolved.extension === undefined ? source : source[resolved.extension];
  if (!isJsonObject(from)) return;
  let into = target;
  if (resolved.extension !== undefined) {
    const existing = target[resolved.extension];
    into = isJsonObject(existing) ? existing : {};
    target[resolved.extension] = into;
  }
  const name = resolved.attribute.name;
  const value = from[name];
  if (value === undefined) return;
  const sub = resolved.subAttribute;
  if (!sub) {
    into[name] = value;
    return;
  }
  const pick = (item: unknown, previous: unknown): unknown =>
    isJsonObject(item)
      ? { ...(isJsonObject(previous) ? previous : {}), [sub.name]: item[sub.name] }
      : item;
  into[name] = Array.isArray(value)
    ? value.map((item, index) => pick(item, asList(into[name])[index]))
    : pick(value, into[name]);
}

function removeAttribute(target: JsonObject, resolved: ResolvedAttribute): void {
  const container = resolved.extension === undefined ? target : target[resolved.extension];
  if (!isJsonObject(container)) return;
  const name = resolved.attribute.name;
  const sub = resolved.subAttribute;
  if (!sub) {
    deleteKey(container, name);
    return;
  }
  for (const item of asList(container[name]).filter(isJsonObject)) deleteKey(item, sub.name);
}

/**
 * Applies `attributes` / `excludedAttributes` (RFC 7644 §3.9). `id` and `schemas` are
 * always returned; unknown names are ignored.
 */
export function projectResource(
  resourceType: ScimResourceType,
  resource: JsonObject,
  attributes: string[],
  excludedAttributes: string[],
): JsonObject {
  if (attributes.length > 0) {
    const projected: JsonObject = { schemas: resource.schemas, id: resource.id };
    for (const path of attributes) {
      const resolved = resolveAttributePath(resourceType, path);
      if (resolved) copyAttribute(resource, projected, resolved);
    }
    return projected;
  }
  if (excludedAttributes.length === 0) return resource;
  const projected = structuredClone(resource);
  for (const path of excludedAttributes) {
    const resolved = resolveAttributePath(resourceType, path);
    if (resolved && resolved.attribute.name !== 'id') removeAttribute(projected, resolved);
  }
  return projected;
}

/** A ListResponse of one page that is already cut, with the total number of matches. */
export function pageResponse(
  page: JsonObject[],
  totalResults: number,
  query: Pick<ScimListQuery, 'startIndex'>,
  project: (resource: JsonObject) => JsonObject,
): JsonObject {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    startIndex: query.startIndex,
    itemsPerPage: page.length,
    Resources: page.map(project),
  };
}

/** A ListResponse page of already filtered and sorted resources. */
export function listResponse(
  resources: JsonObject[],
  query: Pick<ScimListQuery, 'startIndex' | 'count'>,
  project: (resource: JsonObject) => JsonObject,
): JsonObject {
  const page = resources.slice(query.startIndex - 1, query.startIndex - 1 + query.count);
  return pageResponse(page, resources.length, query, project);
}
