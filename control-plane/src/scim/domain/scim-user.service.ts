import type { Logger } from '../../logger.ts';
import type { JsonObject } from './scim-attribute-path.ts';
import { notFound } from './scim-error.ts';
import { compileFilter, parseFilter, requiredEqualities } from './scim-filter.ts';
import {
  listResponse,
  projectResource,
  sortResources,
  type ScimListQuery,
} from './scim-list-query.ts';
import { applyPatch, parsePatchRequest } from './scim-patch.ts';
import { normalizeResource, requireAttributes, schemasOf } from './scim-resource-normalizer.ts';
import { USER_RESOURCE_TYPE } from './scim-schemas.ts';

/** A stored user: indexed columns plus the SCIM resource as last written. */
export interface ScimUserRecord {
  id: string;
  tenantId: string;
  userName: string;
  active: boolean;
  resource: JsonObject;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  groups: Array<{ id: string; displayName: string }>;
}

/** What a write stores: the normalized resource; columns are derived from it. */
export interface ScimUserWrite {
  userName: string;
  externalId: string | undefined;
  active: boolean;
  displayName: string | undefined;
  resource: JsonObject;
}

/** Narrows a listing by indexed columns before the filter runs in memory. */
export interface ScimUserCandidates {
  id?: string;
  userName?: string;
  externalId?: string;
}

/** Users of one tenant. Every call takes the tenant id. */
export interface ScimUserRepository {
  /** Throws ScimError `uniqueness` when the userName (case-insensitive) is taken. */
  insert(tenantId: string, user: ScimUserWrite): Promise<ScimUserRecord>;
  get(tenantId: string, id: string): Promise<ScimUserRecord | undefined>;
  list(tenantId: string, candidates: ScimUserCandidates): Promise<ScimUserRecord[]>;
  /**
   * Locks the user, checks `expectedVersion` (412), writes `change(current)` and bumps the
   * version, in one transaction. Throws 404 when there is no such user in the tenant.
   */
  modify(
    tenantId: string,
    id: string,
    expectedVersion: number | undefined,
    change: (current: ScimUserRecord) => ScimUserWrite,
  ): Promise<{ before: ScimUserRecord; after: ScimUserRecord }>;
  /** Deletes the user (and its memberships); 404/412 as for modify. */
  remove(tenantId: string, id: string, expectedVersion: number | undefined): Promise<void>;
}

/** Where a request runs: the tenant the SCIM token selected and the base URL of /scim/v2. */
export interface ScimScope {
  tenantId: string;
  baseUrl: string;
}

export interface ScimUserServiceDeps {
  repository: ScimUserRepository;
  logger: Logger;
  /** Called after a user is deactivated (active → false) or deleted. */
  onUserDeactivated?: ((tenantId: string, userId: string) => Promise<void> | void) | undefined;
}

/** The SCIM representation of a stored user: id, meta, derived groups. */
export function toUserResource(record: ScimUserRecord, baseUrl: string): JsonObject {
  return {
    schemas: schemasOf(USER_RESOURCE_TYPE, record.resource),
    id: record.id,
    ...record.resource,
    userName: record.userName,
    active: record.active,
    ...(record.groups.length === 0
      ? {}
      : {
          groups: record.groups.map((group) => ({
            value: group.id,
            display: group.displayName,
            $ref: `${baseUrl}/Groups/${group.id}`,
            type: 'direct',
          })),
        }),
    meta: {
      resourceType: 'User',
      created: record.createdAt.toISOString(),
      lastModified: record.updatedAt.toISOString(),
      location: `${baseUrl}/Users/${record.id}`,
      version: `W/"${record.version}"`,
    },
  };
}

function toWrite(body: unknown): ScimUserWrite {
  const resource = normalizeResource(USER_RESOURCE_TYPE, body);
  requireAttributes(USER_RESOURCE_TYPE, resource);
  // Users are active unless the IdP says otherwise.
  resource.active ??= true;
  return writeOf(resource);
}

function writeOf(resource: JsonObject): ScimUserWrite {
  const name = resource.name as { formatted?: string } | undefined;
  return {
    userName: resource.userName as string,
    externalId: resource.externalId as string | undefined,
    active: resource.active !== false,
    displayName: (resource.displayName as string | undefined) ?? name?.formatted,
    resource,
  };
}

/** SCIM Users: create, read, list with filters, replace, patch, delete. */
export function createScimUserService(deps: ScimUserServiceDeps) {
  const { repository } = deps;

  async function notifyDeactivated(tenantId: string, userId: string): Promise<void> {
    try {
      await deps.onUserDeactivated?.(tenantId, userId);
    } catch (error) {
      deps.logger.error({ err: error, tenantId, userId }, 'onUserDeactivated failed');
    }
  }

  async function afterChange(before: ScimUserRecord, after: ScimUserRecord): Promise<void> {
    if (before.active && !after.active) await notifyDeactivated(after.tenantId, after.id);
  }

  return {
    async create(scope: ScimScope, body: unknown): Promise<ScimUserRecord> {
      return repository.insert(scope.tenantId, toWrite(body));
    },

    async get(scope: ScimScope, id: string): Promise<ScimUserRecord> {
      return (await repository.get(scope.tenantId, id)) ?? Promise.reject(notFound('User', id));
    },

    async list(scope: ScimScope, query: ScimListQuery): Promise<JsonObject> {
      const filter = query.filter === undefined ? undefined : parseFilter(query.filter);
      const predicate = filter && compileFilter(filter, USER_RESOURCE_TYPE);
      const equalities = filter ? requiredEqualities(filter) : new Map<string, string>();
      const records = await repository.list(scope.tenantId, {
        id: equalities.get('id'),
        userName: equalities.get('username'),
        externalId: equalities.get('externalid'),
      });
      let resources = records.map((record) => toUserResource(record, scope.baseUrl));
      if (predicate) resources = resources.filter(predicate);
      if (query.sortBy !== undefined)
        resources = sortResources(USER_RESOURCE_TYPE, resources, query.sortBy, query.sortOrder);
      return listResponse(resources, query, (resource) =>
        projectResource(USER_RESOURCE_TYPE, resource, query.attributes, query.excludedAttributes),
      );
    },

    async replace(
      scope: ScimScope,
      id: string,
      body: unknown,
      expectedVersion: number | undefined,
    ): Promise<ScimUserRecord> {
      const write = toWrite(body);
      const { before, after } = await repository.modify(
        scope.tenantId,
        id,
        expectedVersion,
        () => write,
      );
      await afterChange(before, after);
      return after;
    },

    async patch(
      scope: ScimScope,
      id: string,
      body: unknown,
      expectedVersion: number | undefined,
    ): Promise<ScimUserRecord> {
      const operations = parsePatchRequest(body);
      const { before, after } = await repository.modify(
        scope.tenantId,
        id,
        expectedVersion,
        (current) => {
          const patched = applyPatch(USER_RESOURCE_TYPE, current.resource, operations);
          const resource = normalizeResource(USER_RESOURCE_TYPE, patched);
          requireAttributes(USER_RESOURCE_TYPE, resource);
          resource.active ??= current.active;
          return writeOf(resource);
        },
      );
      await afterChange(before, after);
      return after;
    },

    async remove(scope: ScimScope, id: string, expectedVersion: number | undefined): Promise<void> {
      await repository.remove(scope.tenantId, id, expectedVersion);
      await notifyDeactivated(scope.tenantId, id);
    },
  };
}

export type ScimUserService = ReturnType<typeof createScimUserService>;
