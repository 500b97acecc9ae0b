/**
 * `npm run bench:cedar [-- --decisions 20000 --json]`: the latency of one Cedar decision as
 * the platform makes it (`createCedarAuthorizer`: pre-parsed schema and policy set, the
 * subset of policies whose scopes match the request, the entities the request reaches,
 * `statefulIsAuthorized`, request digest and decision id included), over a realistic
 * tenant: the starter plan's platform policies, eleven tenant policies, 500 users in 20
 * groups and five roles, 2,000 documents, and one request in ten aimed at another tenant's
 * document.
 *
 * Rows: the slice a service loads for one request (the principal with its ancestry, or the
 * principal and its groups, and the resource), the same with policy subsets off, the whole
 * tenant held by the authorizer, and — for scale — Cedar given the whole tenant or
 * re-parsing everything on every call; last, the floor: one bare cedar-wasm call.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  isAuthorized,
  preparsePolicySet,
  preparseSchema,
  schemaToJson,
  statefulIsAuthorized,
  type StatefulAuthorizationCall,
} from '@cedar-policy/cedar-wasm/nodejs';
import {
  CITADEL_CEDAR_SCHEMA,
  citadelAction,
  citadelEntity,
  createCedarAuthorizer,
  platformPoliciesFor,
  type AuthorizationRequest,
  type CedarAuthorizer,
  type CedarEntity,
  type CitadelAction,
} from '@citadel/data-plane-runtime';
import { percentile } from './percentile.ts';

const { values } = parseArgs({
  options: {
    decisions: { type: 'string', default: '20000' },
    json: { type: 'boolean', default: false },
  },
});
const DECISIONS = Number(values.decisions);
const WARM_UP = 2_000;
/** Each measured series is warmed up on its own first requests. */
const TENANT = '3f0c2b1a-9d8e-4f7a-8b6c-5d4e3f2a1b0c';
const OTHER_TENANT = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const ROLES = ['owner', 'admin', 'member', 'viewer', 'auditor'];
const ACTIONS: CitadelAction[] = ['document.read', 'document.search', 'document.write'];

/** A deterministic generator, so every run asks the same questions. */
function createRandom(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % below;
  };
}

const tenantRef = (tenantId: string) => ({ __entity: citadelEntity('Tenant', tenantId) });

interface TenantModel {
  users: CedarEntity[];
  groups: CedarEntity[];
  documents: CedarEntity[];
  foreignDocuments: CedarEntity[];
}

function buildTenant(random: (below: number) => number): TenantModel {
  const groups = Array.from({ length: 20 }, (_, index) => ({
    uid: citadelEntity('Group', `group-${index}`),
    attrs: { tenant: tenantRef(TENANT) },
    parents: [citadelEntity('Role', ROLES[index % 4 === 0 ? 1 : 2 + (index % 2)] ?? 'viewer')],
  }));
  const users = Array.from({ length: 500 }, (_, index) => ({
    uid: citadelEntity('User', `user-${index}`),
    attrs: { tenant: tenantRef(TENANT), email: `user-${index}@example.com` },
    parents: [
      citadelEntity('Group', `group-${random(20)}`),
      ...(index % 50 === 0 ? [citadelEntity('Role', 'owner')] : []),
    ],
  }));
  const documentOf = (tenantId: string, prefix: string) => (_: unknown, index: number) => ({
    uid: citadelEntity('Document', `${prefix}-${index}`),
    attrs: {
      tenant: tenantRef(tenantId),
      owner: { __entity: citadelEntity('User', `user-${random(500)}`) },
      classification: index % 3 === 0 ? 'internal' : 'public',
    },
    parents: [],
  });
  return {
    users,
    groups,
    documents: Array.from({ length: 2_000 }, documentOf(TENANT, 'doc')),
    foreignDocuments: Array.from({ length: 200 }, documentOf(OTHER_TENANT, 'foreign')),
  };
}

/** Ten policies of the kind a tenant admin writes. */
function tenantPolicies(): Record<string, string> {
  const policies: Record<string, string> = {};
  for (let index = 0; index < 10; index += 1) {
    policies[`tenant/group-${index}-internal`] = `permit (
  principal in Citadel::Group::"group-${index}",
  action in [Citadel::Action::"document.read", Citadel::Action::"document.search"],
  resource is Citadel::Document
) when { resource has classification && resource.classification == "internal" };`;
  }
  policies['tenant/no-write-without-mfa'] = `forbid (
  principal,
  action == Citadel::Action::"document.write",
  resource
) unless { context has mfa && context.mfa };`;
  return policies;
}

function roleEntities(): CedarEntity[] {
  return ROLES.map((role) => ({ uid: citadelEntity('Role', role), attrs: {}, parents: [] }));
}

function pick<T>(items: T[], random: (below: number) => number): T {
  const item = items[random(items.length)];
  if (item === undefined) throw new Error('empty list');
  return item;
}

/**
 * The requests. `closure`: the principal carries its whole ancestry (groups and their roles)
 * as parents, so only the principal and the resource travel; `groups`: the principal's
 * groups are passed as entities of their own, Cedar computing the hierarchy.
 */
function buildRequests(
  model: TenantModel,
  count: number,
): { closure: AuthorizationRequest[]; groups: AuthorizationRequest[] } {
  const random = createRandom(7);
  const groupsById = new Map(model.groups.map((group) => [group.uid.id, group]));
  const closure: AuthorizationRequest[] = [];
  const groups: AuthorizationRequest[] = [];
  for (let index = 0; index < count; index += 1) {
    const user = pick(model.users, random);
    const resource =
      random(10) === 0 ? pick(model.foreignDocuments, random) : pick(model.documents, random);
    const userGroups = user.parents.flatMap((parent) => groupsById.get(parent.id) ?? []);
    const request = {
      principal: user.uid,
      action: citadelAction(pick(ACTIONS, random)),
      resource: resource.uid,
      context: { mfa: random(2) === 0, sourceIp: '10.1.2.3' },
    };
    const ancestry = [...user.parents, ...userGroups.flatMap((group) => group.parents)];
    closure.push({ ...request, entities: [{ ...user, parents: ancestry }, resource] });
    groups.push({ ...request, entities: [user, ...userGroups, resource] });
  }
  return { closure, groups };
}

interface Result {
  name: string;
  decisions: number;
  p50Us: number;
  p90Us: number;
  p95Us: number;
  p99Us: number;
  maxUs: number;
  perSecond: number;
  allowed: number;
}

function measure(
  name: string,
  requests: AuthorizationRequest[],
  decide: (r: AuthorizationRequest) => string,
): Result {
  for (const request of requests.slice(0, WARM_UP)) decide(request);
  const latencies = new Float64Array(requests.length);
  let allowed = 0;
  const started = process.hrtime.bigint();
  requests.forEach((request, index) => {
    const before = process.hrtime.bigint();
    if (decide(request) === 'allow') allowed += 1;
    latencies[index] = Number(process.hrtime.bigint() - before) / 1_000;
  });
  const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    name,
    decisions: requests.length,
    p50Us: round(percentile(sorted, 0.5)),
    p90Us: round(percentile(sorted, 0.9)),
    p95Us: round(percentile(sorted, 0.95)),
    p99Us: round(percentile(sorted, 0.99)),
    maxUs: round(sorted.at(-1) ?? Number.NaN),
    perSecond: Math.round(requests.length / totalSeconds),
    allowed,
  };
}

/** Cedar given every entity of the tenant and every policy on each call, as it was before. */
function wholeTenantDecider(
  policies: Record<string, string>,
  everything: CedarEntity[],
): (request: AuthorizationRequest) => string {
  const schemaName = 'bench-schema';
  preparseSchema(schemaName, CITADEL_CEDAR_SCHEMA);
  preparsePolicySet('bench-whole-tenant', { staticPolicies: policies });
  return (request) => {
    const answer = statefulIsAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context ?? {},
      entities: everything,
      preparsedSchemaName: schemaName,
      preparsedPolicySetId: 'bench-whole-tenant',
      validateRequest: true,
    });
    return answer.type === 'success' ? answer.response.decision : 'deny';
  };
}

function reparsingDecider(policies: Record<string, string>) {
  return (request: AuthorizationRequest) => {
    const answer = isAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context ?? {},
      schema: CITADEL_CEDAR_SCHEMA,
      validateRequest: true,
      policies: { staticPolicies: policies },
      entities: request.entities ?? [],
    });
    return answer.type === 'success' ? answer.response.decision : 'deny';
  };
}

/**
 * What a new kind of request costs the first time: the policy subset it needs is parsed then
 * (warm-up hides it from the rows above). Measured on a fresh authorizer.
 */
function coldSubsets(policies: Record<string, string>, requests: AuthorizationRequest[]) {
  const authorizer = createCedarAuthorizer({ schema: CITADEL_CEDAR_SCHEMA, policies });
  const cold: number[] = [];
  for (const request of requests) {
    const before = process.hrtime.bigint();
    const slices = authorizer.policySlices;
    authorizer.authorize(request);
    if (authorizer.policySlices > slices) {
      cold.push(Number(process.hrtime.bigint() - before) / 1_000);
    }
  }
  cold.sort((a, b) => a - b);
  return { subsets: cold.length, p50Us: Math.round(percentile(cold, 0.5)) };
}

/**
 * The floor under a decision: one `statefulIsAuthorized` call, the same one repeated, given
 * a schema with only `document.read` (as the authorizer cuts it). `empty`: no entity, no
 * policy, no context; `read`: what the authorizer hands Cedar for a member of group-3
 * reading an internal document — the two entities trimmed, the five policies whose scopes
 * match.
 */
function floorCalls(policies: Record<string, string>): Record<string, StatefulAuthorizationCall> {
  const json = schemaToJson(CITADEL_CEDAR_SCHEMA);
  if (json.type === 'failure') throw new Error('the schema has no JSON form');
  const citadel = json.json.Citadel;
  if (citadel === undefined) throw new Error('no Citadel namespace');
  const readOnly = {
    'document.read': citadel.actions['document.read'],
    readOnly: citadel.actions.readOnly,
  };
  preparseSchema('bench-floor-schema', {
    Citadel: { ...citadel, actions: readOnly },
  } as typeof json.json);
  preparsePolicySet('bench-floor-empty', { staticPolicies: {} });
  const matching = [
    'citadel/tenant-pin',
    'citadel/tenant-isolation',
    'citadel/members',
    'citadel/document-owners',
    'tenant/group-3-internal',
  ];
  preparsePolicySet('bench-floor-read', {
    staticPolicies: Object.fromEntries(matching.map((id) => [id, policies[id] ?? ''])),
  });
  const tenant = citadelEntity('Tenant', TENANT);
  const principal = citadelEntity('User', 'user-1');
  const resource = citadelEntity('Document', 'doc-1');
  const request = { principal, action: citadelAction('document.read'), resource, context: {} };
  const call = { ...request, preparsedSchemaName: 'bench-floor-schema', validateRequest: true };
  return {
    empty: { ...call, entities: [], preparsedPolicySetId: 'bench-floor-empty' },
    read: {
      ...call,
      preparsedPolicySetId: 'bench-floor-read',
      entities: [
        {
          uid: principal,
          attrs: { tenant },
          parents: [citadelEntity('Group', 'group-3'), citadelEntity('Role', 'member')],
        },
        {
          uid: resource,
          attrs: { tenant, owner: citadelEntity('User', 'user-7'), classification: 'internal' },
          parents: [],
        },
      ],
    },
  };
}

function withoutEntities(request: AuthorizationRequest): AuthorizationRequest {
  return {
    principal: request.principal,
    action: request.action,
    resource: request.resource,
    ...(request.context === undefined ? {} : { context: request.context }),
  };
}

function run() {
  const model = buildTenant(createRandom(42));
  const policies = { ...platformPoliciesFor('starter', TENANT), ...tenantPolicies() };
  const requests = buildRequests(model, DECISIONS);
  const authorizer: CedarAuthorizer = createCedarAuthorizer({
    schema: CITADEL_CEDAR_SCHEMA,
    policies,
  });
  const wholeSet = createCedarAuthorizer({
    schema: CITADEL_CEDAR_SCHEMA,
    policies,
    maxPolicySlices: 0,
  });
  const everything = [
    ...roleEntities(),
    ...model.groups,
    ...model.users,
    ...model.documents,
    ...model.foreignDocuments,
  ];
  const holdingTenant = createCedarAuthorizer({
    schema: CITADEL_CEDAR_SCHEMA,
    policies,
    entities: everything,
  });
  const few = requests.closure.slice(0, Math.min(1_000, DECISIONS));
  const decide = (on: CedarAuthorizer) => (request: AuthorizationRequest) =>
    on.authorize(request).decision;
  const results: Result[] = [
    measure(
      'principal with its ancestry + resource (2 entities)',
      requests.closure,
      decide(authorizer),
    ),
    measure('principal, its groups, resource (~3 entities)', requests.groups, decide(authorizer)),
    measure(
      'principal with its ancestry + resource, whole policy set (maxPolicySlices 0)',
      requests.closure,
      decide(wholeSet),
    ),
    measure(
      `whole tenant held by the authorizer (${everything.length} entities, the reachable passed)`,
      requests.closure.map(withoutEntities),
      decide(holdingTenant),
    ),
    measure(
      `statefulIsAuthorized given the whole tenant (${everything.length} entities)`,
      few.slice(0, 50).map(withoutEntities),
      wholeTenantDecider(policies, everything),
    ),
    measure(
      'isAuthorized, schema and policies re-parsed (2 entities)',
      few,
      reparsingDecider(policies),
    ),
    ...Object.entries(floorCalls(policies)).map(([name, call]) =>
      measure(`cedar-wasm floor, one call repeated: ${name}`, requests.closure, () => {
        const answer = statefulIsAuthorized(call);
        return answer.type === 'success' ? answer.response.decision : 'deny';
      }),
    ),
  ];
  return {
    results,
    policySubsets: authorizer.policySlices,
    coldSubsets: coldSubsets(policies, requests.closure),
  };
}

const { results, policySubsets, coldSubsets: cold } = run();
if (values.json) {
  const machine = { node: process.version, cpus: os.cpus().length };
  console.log(JSON.stringify({ ...machine, results, policySubsets, coldSubsets: cold }, null, 2));
} else {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
  for (const result of results) {
    console.log(
      `${result.name}: ${result.decisions} decisions, p50 ${result.p50Us} µs, ` +
        `p90 ${result.p90Us} µs, p95 ${result.p95Us} µs, p99 ${result.p99Us} µs, ` +
        `max ${result.maxUs} µs, ${result.perSecond}/s, ${result.allowed} allowed`,
    );
  }
  console.log(
    `policy subsets pre-parsed: ${policySubsets}; the first decision needing a new one: ` +
      `p50 ${cold.p50Us} µs (${cold.subsets} subsets, fresh authorizer)`,
  );
}
