import type { Filter } from 'scim2-parse-filter';
import { AUDIT_ACTIONS, type AuditActor, type AuditEvent } from '../../audit/audit-entry.ts';
import type { Logger } from '../../logger.ts';
import type { JsonObject } from './scim-attribute-path.ts';
import { createScimAuditTrail, type ScimAuditRecorder } from './scim-audit-trail.ts';
import { notFound } from './scim-error.ts';
import {
  compileFilter,
  parseFilter,
  requiredEqualities,
  type ScimPredicate,
} from './scim-filter.ts';
import {
  listResponse,
  pageResponse,
  projectResource,
  searchOf,
  sortResources,
  type ScimListQuery,
  type ScimSearch,
  type ScimSearchPage,
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
   * Filters, sorts and pages in the database; undefined when it cannot express the whole
   * search exactly, and the service then filters in memory. Optional: the in-memory path
   * is the reference the database path is tested against.
   */
  search?(
    tenantId: string,
    search: ScimSearch,
  ): Promise<ScimSearchPage<ScimUserRecord> | undefined>;
  /**
   * Locks the user, checks `expectedVersion` (412), writes `change(current)` and bumps the
   * version, in one transaction. A deactivation (active → false) also revokes the user's
   * credentials (`credentialsRevokedAt`) and sessions in that transaction. Throws 404 when
   * there is no such user in the tenant.
   */
  modify(
    tenantId: string,
    id: string,
    expectedVersion: number | undefined,
    change: (current: ScimUserRecord) => ScimUserWrite,
  ): Promise<{ before: ScimUserRecord; after: ScimUserRecord }>;
  /** Deletes the user (and its memberships and sessions); 404/412 as for modify. */
  remove(tenantId: string, id: string, expectedVersion: number | undefined): Promise<void>;
}

/**
 * Where a request runs: the tenant the SCIM token selected, the base URL of /scim/v2, and
 * who acts (the SCIM token) for the audit log.
 */
export interface ScimScope {
  tenantId: string;
  baseUrl: string;
  actor: AuditActor;
}

export interface ScimUserServiceDeps {
  repository: ScimUserRepository;
  logger: Logger;
  /**
   * Called after a user is deactivated (active → false) or deleted, once the change is
   * committed: for side effects outside the database. Sessions and tokens are already
   * revoked by then, in the transaction of the change itself.
   */
  onUserDeactivated?: ((tenantId: string, userId: string) => Promise<void> | void) | undefined;
  /** Records every change in the tenant's audit log. */
  audit?: ScimAuditRecorder | undefined;
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

function projectUser(query: ScimListQuery) {
  return (resource: JsonObject) =>
    projectResource(USER_RESOURCE_TYPE, resource, query.attributes, query.excludedAttributes);
}

/** The reference listing: narrows by indexed columns, then filters and sorts in memory. */
async function listInMemory(
  repository: ScimUserRepository,
  scope: ScimScope,
  query: ScimListQuery,
  filter: { parsed: Filter; predicate: ScimPredicate } | undefined,
): Promise<JsonObject> {
  const equalities = filter ? requiredEqualities(filter.parsed) : new Map<string, string>();
  const records = await repository.list(scope.tenantId, {
    id: equalities.get('id'),
    userName: equalities.get('username'),
    externalId: equalities.get('externalid'),
  });
  let resources = records.map((record) => toUserResource(record, scope.baseUrl));
  if (filter) resources = resources.filter(filter.predicate);
  if (query.sortBy !== undefined)
    resources = sortResources(USER_RESOURCE_TYPE, resources, query.sortBy, query.sortOrder);
  return listResponse(resources, query, projectUser(query));
}

/** The audit action of a replace or patch: a deactivation is recorded as such. */
function changeAction(before: ScimUserRecord, after: ScimUserRecord, fallback: string): string {
  return before.active && !after.active ? AUDIT_ACTIONS.scimUserDeactivated : fallback;
}

/** SCIM Users: create, read, list with filters, replace, patch, delete. */
export function createScimUserService(deps: ScimUserServiceDeps) {
  const { repository } = deps;
  const audit = createScimAuditTrail(deps.audit);
  const recordChange = (
    scope: ScimScope,
    action: string,
    id: string,
    details: AuditEvent['details'] = {},
  ) => audit.changed(scope, action, { type: 'user', id }, details);

  async function notifyDeactivated(tenantId: string, userId: string): Promise<void> {
    try {
      await deps.onUserDeactivated?.(tenantId, userId);
    } catch (error) {
      deps.logger.error({ err: error, tenantId, userId }, 'onUserDeactivated failed');
    }
  }

  async function afterChange(
    scope: ScimScope,
    change: { before: ScimUserRecord; after: ScimUserRecord },
    action: string,
  ): Promise<void> {
    const { before, after } = change;
    // A deactivation by PUT or PATCH is recorded as a deactivation; `via` keeps which.
    await recordChange(scope, changeAction(before, after, action), after.id, {
      version: after.version,
      via: action === AUDIT_ACTIONS.scimUserReplaced ? 'PUT' : 'PATCH',
    });
    if (before.active && !after.active) await notifyDeactivated(after.tenantId, after.id);
  }

  return {
    async create(scope: ScimScope, body: unknown): Promise<ScimUserRecord> {
      const record = await repository.insert(scope.tenantId, toWrite(body));
      await recordChange(scope, AUDIT_ACTIONS.scimUserCreated, record.id, {
        active: record.active,
      });
      return record;
    },

    async get(scope: ScimScope, id: string): Promise<ScimUserRecord> {
      return (await repository.get(scope.tenantId, id)) ?? Promise.reject(notFound('User', id));
    },

    async list(scope: ScimScope, query: ScimListQuery): Promise<JsonObject> {
      const parsed = query.filter === undefined ? undefined : parseFilter(query.filter);
      // Compiling validates the filter (400 invalidFilter) whichever path answers.
      const filter = parsed && { parsed, predicate: compileFilter(parsed, USER_RESOURCE_TYPE) };
      const search = searchOf(USER_RESOURCE_TYPE, query, parsed);
      const page = await repository.search?.(scope.tenantId, search);
      if (!page) return listInMemory(repository, scope, query, filter);
      const resources = page.records.map((record) => toUserResource(record, scope.baseUrl));
      return pageResponse(resources, page.totalResults, query, projectUser(query));
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
      await afterChange(scope, { before, after }, AUDIT_ACTIONS.scimUserReplaced);
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
      await afterChange(scope, { before, after }, AUDIT_ACTIONS.scimUserPatched);
      return after;
    },

    async remove(scope: ScimScope, id: string, expectedVersion: number | undefined): Promise<void> {
      await repository.remove(scope.tenantId, id, expectedVersion);
      await recordChange(scope, AUDIT_ACTIONS.scimUserDeleted, id);
      await notifyDeactivated(scope.tenantId, id);
    },
  };
}

export type ScimUserService = ReturnType<typeof createScimUserService>;
