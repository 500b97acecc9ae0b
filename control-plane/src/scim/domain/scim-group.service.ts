import { isJsonObject, type JsonObject } from './scim-attribute-path.ts';
import { badRequest, notFound } from './scim-error.ts';
import { compileFilter, parseFilter, requiredEqualities } from './scim-filter.ts';
import {
  listResponse,
  projectResource,
  sortResources,
  type ScimListQuery,
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

/** SCIM Groups with members kept as rows, so concurrent member changes never lose one. */
export function createScimGroupService(deps: { repository: ScimGroupRepository }) {
  const { repository } = deps;
  return {
    wantsMembers,

    async create(scope: ScimScope, body: unknown): Promise<ScimGroupRecord> {
      const { group, memberIds } = splitGroup(normalizeResource(GROUP_RESOURCE_TYPE, body));
      return repository.insert(scope.tenantId, group, memberIds);
    },

    async get(scope: ScimScope, id: string, withMembers = true): Promise<ScimGroupRecord> {
      const record = await repository.get(scope.tenantId, id, withMembers);
      return record ?? Promise.reject(notFound('Group', id));
    },

    async list(scope: ScimScope, query: ScimListQuery): Promise<JsonObject> {
      const filter = query.filter === undefined ? undefined : parseFilter(query.filter);
      const predicate = filter && compileFilter(filter, GROUP_RESOURCE_TYPE);
      const equalities = filter ? requiredEqualities(filter) : new Map<string, string>();
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
      if (predicate) resources = resources.filter(predicate);
      if (query.sortBy !== undefined)
        resources = sortResources(GROUP_RESOURCE_TYPE, resources, query.sortBy, query.sortOrder);
      return listResponse(resources, query, (resource) =>
        projectResource(GROUP_RESOURCE_TYPE, resource, query.attributes, query.excludedAttributes),
      );
    },

    async replace(
      scope: ScimScope,
      id: string,
      body: unknown,
      expectedVersion: number | undefined,
    ): Promise<ScimGroupRecord> {
      const { group, memberIds } = splitGroup(normalizeResource(GROUP_RESOURCE_TYPE, body));
      return repository.modify(scope.tenantId, id, expectedVersion, (current) => {
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
    },

    async patch(
      scope: ScimScope,
      id: string,
      body: unknown,
      expectedVersion: number | undefined,
    ): Promise<ScimGroupRecord> {
      const operations = parsePatchRequest(body);
      return repository.modify(scope.tenantId, id, expectedVersion, (current) =>
        patchGroup(current, operations),
      );
    },

    async remove(scope: ScimScope, id: string, expectedVersion: number | undefined): Promise<void> {
      await repository.remove(scope.tenantId, id, expectedVersion);
    },
  };
}

export type ScimGroupService = ReturnType<typeof createScimGroupService>;
