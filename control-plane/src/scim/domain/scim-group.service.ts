import type { Filter } from 'scim2-parse-filter';
import { AUDIT_ACTIONS } from '../../audit/audit-entry.ts';
import { isJsonObject, type JsonObject } from './scim-attribute-path.ts';
import { createScimAuditTrail, type ScimAuditRecorder } from './scim-audit-trail.ts';
import { badRequest, notFound } from './scim-error.ts';
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
import {
  applyPathOperation,
  expandPathless,
  parsePatchPath,
  parsePatchRequest,
  type PatchOperation,
  type PatchTarget,
} from './scim-patch.ts';
import {
  normalizeAttributeValue,
  normalizeResource,
  requireAttributes,
  schemasOf,
} from './scim-resource-normalizer.ts';
import { GROUP_RESOURCE_TYPE } from './scim-schemas.ts';
import type { ScimScope } from './scim-user.service.ts';

/** A stored group; `members` is undefined when the caller did not ask for them. */
export interface ScimGroupRecord {
  id: string;
  tenantId: string;
  displayName: string;
  resource: JsonObject;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  members: Array<{ userId: string; display: string }> | undefined;
}

export interface ScimGroupWrite {
  displayName: string;
  externalId: string | undefined;
  /** The group's attributes except `members`, which live in their own rows. */
  resource: JsonObject;
}

/** Member changes computed under the group's lock, applied as row inserts and deletes. */
export interface ScimMemberChanges {
  add: string[];
  remove: string[];
}

export interface ScimGroupCandidates {
  id?: string;
  displayName?: string;
  externalId?: string;
}

/** Groups of one tenant. Every call takes the tenant id. */
export interface ScimGroupRepository {
  /** Throws `uniqueness` on a taken displayName and `invalidValue` on unknown members. */
  insert(tenantId: string, group: ScimGroupWrite, memberIds: string[]): Promise<ScimGroupRecord>;
  get(tenantId: string, id: string, withMembers: boolean): Promise<ScimGroupRecord | undefined>;
  list(
    tenantId: string,
    candidates: ScimGroupCandidates,
    withMembers: boolean,
  ): Promise<ScimGroupRecord[]>;
  /** Searches in the database; undefined when it cannot express the search exactly. */
  search?(
    tenantId: string,
    search: ScimSearch,
    withMembers: boolean,
  ): Promise<ScimSearchPage<ScimGroupRecord> | undefined>;
  /**
   * Locks the group, checks `expectedVersion`, applies `change(current)` (current has its
   * members), inserts/deletes member rows and bumps the version, in one transaction.
   */
  modify(
    tenantId: string,
    id: string,
    expectedVersion: number | undefined,
    change: (current: ScimGroupRecord) => { group: ScimGroupWrite; members: ScimMemberChanges },
  ): Promise<ScimGroupRecord>;
  remove(tenantId: string, id: string, expectedVersion: number | undefined): Promise<void>;
}

/** The SCIM representation of a stored group. */
export function toGroupResource(record: ScimGroupRecord, baseUrl: string): JsonObject {
  return {
    schemas: schemasOf(GROUP_RESOURCE_TYPE, record.resource),
    id: record.id,
    ...record.resource,
    displayName: record.displayName,
    ...(record.members === undefined
      ? {}
      : {
          members: record.members.map((member) => ({
            value: member.userId,
            display: member.display,
            $ref: `${baseUrl}/Users/${member.userId}`,
            type: 'User',
          })),
        }),
    meta: {
      resourceType: 'Group',
      created: record.createdAt.toISOString(),
      lastModified: record.updatedAt.toISOString(),
      location: `${baseUrl}/Groups/${record.id}`,
      version: `W/"${record.version}"`,
    },
  };
}

/** Splits a normalized group into its row fields and its member ids. */
function splitGroup(resource: JsonObject): { group: ScimGroupWrite; memberIds: string[] } {
  requireAttributes(GROUP_RESOURCE_TYPE, resource);
  const memberIds = memberIdsOf(resource.members);
  const rest = { ...resource };
  delete rest.members;
  return {
    group: {
      displayName: resource.displayName as string,
      externalId: resource.externalId as string | undefined,
      resource: rest,
    },
    memberIds,
  };
}

const MEMBERS = GROUP_RESOURCE_TYPE.schema.attributes.find((item) => item.name === 'members');

function memberIdsOf(value: unknown): string[] {
  if (!MEMBERS) return [];
  const members = normalizeAttributeValue(MEMBERS, value);
  return [
    ...new Set(
      (Array.isArray(members) ? members : []).map((member) => {
        const id = isJsonObject(member) ? member.value : undefined;
        if (typeof id !== 'string' || id === '')
          throw badRequest('invalidValue', 'Every member needs a "value" (the user id).');
        return id;
      }),
    ),
  ];
}

/** Removes members by value filter, by a list of values, or all of them. */
function removeMembers(members: Set<string>, filter: PatchTarget['filter'], value: unknown): void {
  const matches = filter ?? ((): boolean => false);
  const doomed = filter
    ? [...members].filter((id) => matches({ value: id, type: 'User' }))
    : value === undefined
      ? [...members]
      : memberIdsOf(value);
  for (const id of doomed) members.delete(id);
}

/** Applies one members operation to the set of member ids. */
function applyMemberOperation(
  members: Set<string>,
  target: PatchTarget,
  step: PatchOperation,
): void {
  const filter = target.filter;
  if (step.op === 'remove') {
    removeMembers(members, filter, step.value);
    return;
  }
  if (target.subAttribute || filter)
    throw badRequest('invalidPath', 'Members are added or replaced through the "members" path.');
  // `replace` with [] clears the group (Entra and Okta both send it).
  if (step.op === 'replace') members.clear();
  for (const id of memberIdsOf(step.value)) members.add(id);
}

function patchGroup(current: ScimGroupRecord, operations: PatchOperation[]) {
  const resource: JsonObject = structuredClone({
    ...current.resource,
    displayName: current.displayName,
  });
  const before = new Set((current.members ?? []).map((member) => member.userId));
  const members = new Set(before);
  for (const operation of operations) {
    const steps =
      operation.path === undefined
        ? expandPathless(GROUP_RESOURCE_TYPE, operation)
        : [{ ...operation, path: operation.path }];
    for (const step of steps) {
      const target = parsePatchPath(GROUP_RESOURCE_TYPE, step.path);
      if (target.attribute.name === 'members') applyMemberOperation(members, target, step);
      else applyPathOperation(GROUP_RESOURCE_TYPE, resource, step);
    }
  }
  const { group } = splitGroup(normalizeResource(GROUP_RESOURCE_TYPE, resource));
  return {
    group,
    members: {
      add: [...members].filter((id) => !before.has(id)),
      remove: [...before].filter((id) => !members.has(id)),
    },
  };
}

/** Whether a response (after projection) shows members; if not, they are not loaded. */
function wantsMembers(query: Pick<ScimListQuery, 'attributes' | 'excludedAttributes' | 'filter'>) {
  const mentions = (paths: string[]) =>
    paths.some((path) =>
      path
        .toLowerCase()
        .replace(/^urn:.*:group:/, '')
        .startsWith('members'),
    );
  if (query.filter !== undefined && /members/i.test(query.filter)) return true;
  if (query.attributes.length > 0) return mentions(query.attributes);
  return !mentions(query.excludedAttributes);
}

function projectGroup(query: ScimListQuery) {
  return (resource: JsonObject) =>
    projectResource(GROUP_RESOURCE_TYPE, resource, query.attributes, query.excludedAttributes);
}

/** The reference listing: narrows by indexed columns, then filters and sorts in memory. */
async function listInMemory(
  repository: ScimGroupRepository,
  scope: ScimScope,
  query: ScimListQuery,
  filter: { parsed: Filter; predicate: ScimPredicate } | undefined,
): Promise<JsonObject> {
  const equalities = filter ? requiredEqualities(filter.parsed) : new Map<string, string>();
  const records = await repository.list(
    scope.tenantId,
    {
      id: equalities.get('id'),
      displayName: equalities.get('displayname'),
      externalId: equalities.get('externalid'),
    },
    wantsMembers(query),
  );
  let resources = records.map((record) => toGroupResource(record, scope.baseUrl));
  if (filter) resources = resources.filter(filter.predicate);
  if (query.sortBy !== undefined)
    resources = sortResources(GROUP_RESOURCE_TYPE, resources, query.sortBy, query.sortOrder);
  return listResponse(resources, query, projectGroup(query));
}

export interface ScimGroupServiceDeps {
  repository: ScimGroupRepository;
  /** Records every change in the tenant's audit log. */
  audit?: ScimAuditRecorder | undefined;
}

function memberCounts(before: ScimGroupRecord, after: ScimGroupRecord) {
  const was = new Set((before.members ?? []).map((member) => member.userId));
  const now = new Set((after.members ?? []).map((member) => member.userId));
  return {
    version: after.version,
    membersAdded: [...now].filter((id) => !was.has(id)).length,
    membersRemoved: [...was].filter((id) => !now.has(id)).length,
  };
}

/** SCIM Groups with members kept as rows, so concurrent member changes never lose one. */
export function createScimGroupService(deps: ScimGroupServiceDeps) {
  const { repository } = deps;
  const audit = createScimAuditTrail(deps.audit);
  const recordChange = (
    scope: ScimScope,
    action: string,
    id: string,
    details: Record<string, number> = {},
  ) => audit.changed(scope, action, { type: 'group', id }, details);
  return {
    wantsMembers,

    async create(scope: ScimScope, body: unknown): Promise<ScimGroupRecord> {
      const { group, memberIds } = splitGroup(normalizeResource(GROUP_RESOURCE_TYPE, body));
      const record = await repository.insert(scope.tenantId, group, memberIds);
      await recordChange(scope, AUDIT_ACTIONS.scimGroupCreated, record.id, {
        members: record.members?.length ?? 0,
      });
      return record;
    },

    async get(scope: ScimScope, id: string, withMembers = true): Promise<ScimGroupRecord> {
      const record = await repository.get(scope.tenantId, id, withMembers);
      return record ?? Promise.reject(notFound('Group', id));
    },

    async list(scope: ScimScope, query: ScimListQuery): Promise<JsonObject> {
      const parsed = query.filter === undefined ? undefined : parseFilter(query.filter);
      // Compiling validates the filter (400 invalidFilter) whichever path answers.
      const filter = parsed && { parsed, predicate: compileFilter(parsed, GROUP_RESOURCE_TYPE) };
      const search = searchOf(GROUP_RESOURCE_TYPE, query, parsed);
      const page = await repository.search?.(scope.tenantId, search, wantsMembers(query));
      if (!page) return listInMemory(repository, scope, query, filter);
      const resources = page.records.map((record) => toGroupResource(record, scope.baseUrl));
      return pageResponse(resources, page.totalResults, query, projectGroup(query));
    },

    async replace(
      scope: ScimScope,
      id: string,
      body: unknown,
      expectedVersion: number | undefined,
    ): Promise<ScimGroupRecord> {
      const { group, memberIds } = splitGroup(normalizeResource(GROUP_RESOURCE_TYPE, body));
      const seen: { before?: ScimGroupRecord } = {};
      const record = await repository.modify(scope.tenantId, id, expectedVersion, (current) => {
        seen.before = current;
        const before = new Set((current.members ?? []).map((member) => member.userId));
        const after = new Set(memberIds);
        return {
          group,
          members: {
            add: memberIds.filter((memberId) => !before.has(memberId)),
            remove: [...before].filter((memberId) => !after.has(memberId)),
          },
        };
      });
      const details = memberCounts(seen.before ?? record, record);
      await recordChange(scope, AUDIT_ACTIONS.scimGroupReplaced, record.id, details);
      return record;
    },

    async patch(
      scope: ScimScope,
      id: string,
      body: unknown,
      expectedVersion: number | undefined,
    ): Promise<ScimGroupRecord> {
      const operations = parsePatchRequest(body);
      const seen: { before?: ScimGroupRecord } = {};
      const record = await repository.modify(scope.tenantId, id, expectedVersion, (current) => {
        seen.before = current;
        return patchGroup(current, operations);
      });
      const details = memberCounts(seen.before ?? record, record);
      await recordChange(scope, AUDIT_ACTIONS.scimGroupPatched, record.id, details);
      return record;
    },

    async remove(scope: ScimScope, id: string, expectedVersion: number | undefined): Promise<void> {
      await repository.remove(scope.tenantId, id, expectedVersion);
      await recordChange(scope, AUDIT_ACTIONS.scimGroupDeleted, id);
    },
  };
}

export type ScimGroupService = ReturnType<typeof createScimGroupService>;
