import { createHash } from 'node:crypto';
import { isAuthorized, policyToJson, schemaToJson } from '@cedar-policy/cedar-wasm/nodejs';
import { canonicalJson, type JsonValue } from '@citadel/contracts';
import { describe, expect, it } from 'vitest';
import {
  CedarPolicyError,
  createCedarAuthorizer,
  digestAuthorizationRequest,
  splitCedarPolicies,
  validateCedarPolicies,
  type AuthorizationRequest,
  type CedarEntity,
  type CedarEntityUid,
} from '../src/authorization/cedar-authorizer.ts';
import {
  CITADEL_CEDAR_SCHEMA,
  citadelAction,
  citadelEntity,
  type CitadelAction,
  type CitadelEntityType,
} from '../src/authorization/citadel-schema.ts';
import { prunedContext, prunedEntities } from '../src/authorization/cedar-input-pruning.ts';
import { canonicalJsonText } from '../src/authorization/digest-authorization-request.ts';
import { readConditions } from '../src/authorization/policy-conditions.ts';
import { readSchemaAttributes } from '../src/authorization/schema-attributes.ts';
import { platformPoliciesFor } from '../src/authorization/plan-policies.ts';

const TENANT_A = '0b7f9a52-6c1e-4d8e-9a0f-3e2d1c4b5a61';
const TENANT_B = '5c3e1f7a-2b4d-4e6f-8a9b-0c1d2e3f4a5b';

function tenantRef(tenantId: string) {
  return { __entity: citadelEntity('Tenant', tenantId) };
}

function user(id: string, tenantId: string, roles: string[]): CedarEntity {
  return {
    uid: citadelEntity('User', id),
    attrs: { tenant: tenantRef(tenantId) },
    parents: roles.map((role) => citadelEntity('Role', role)),
  };
}

function documentOf(id: string, tenantId: string, ownerId?: string): CedarEntity {
  return {
    uid: citadelEntity('Document', id),
    attrs: {
      tenant: tenantRef(tenantId),
      ...(ownerId === undefined ? {} : { owner: { __entity: citadelEntity('User', ownerId) } }),
    },
    parents: [],
  };
}

const entities: CedarEntity[] = [
  user('viewer-a', TENANT_A, ['viewer']),
  user('member-a', TENANT_A, ['member']),
  user('admin-a', TENANT_A, ['admin']),
  user('admin-b', TENANT_B, ['admin']),
  documentOf('doc-a', TENANT_A),
  documentOf('doc-b', TENANT_B),
  { uid: citadelEntity('Tenant', TENANT_A), attrs: { plan: 'starter' }, parents: [] },
];

function authorizerFor(plan: string, extra: Record<string, string> = {}) {
  return createCedarAuthorizer({
    schema: CITADEL_CEDAR_SCHEMA,
    policies: { ...platformPoliciesFor(plan, TENANT_A), ...extra },
    entities,
  });
}

function ask(principal: string, action: Parameters<typeof citadelAction>[0], resource: string) {
  const [type, id] = resource.split(':') as ['Document' | 'Tenant', string];
  return {
    principal: citadelEntity('User', principal),
    action: citadelAction(action),
    resource: citadelEntity(type, id),
  };
}

/** A deterministic generator, so every run asks the same questions. */
function seeded(seed: number): <T>(items: readonly T[]) => T {
  let state = seed;
  return (items) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const item = items[state % items.length];
    if (item === undefined) throw new Error('empty list');
    return item;
  };
}

function sameUid(a: { uid: CedarEntityUid }, b: { uid: CedarEntityUid }): boolean {
  return a.uid.type === b.uid.type && a.uid.id === b.uid.id;
}

function entityOf(
  type: CitadelEntityType,
  id: string,
  attrs: CedarEntity['attrs'],
  parents: CedarEntityUid[] = [],
): CedarEntity {
  return { uid: citadelEntity(type, id), attrs, parents };
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${prefix}${index}`);

/**
 * Two tenants' worth of entities: roles reached through groups, documents, runs and wallets
 * owned by users, exams in courses, API keys with scopes.
 */
function buildModel(): CedarEntity[] {
  const pick = seeded(11);
  const tenantOf = (index: number, count: number) =>
    tenantRef(index >= count - 1 ? TENANT_B : TENANT_A);
  const role = (name: string) => citadelEntity('Role', name);
  const groupRoles = [['admin'], ['member'], ['viewer'], ['member'], [], ['admin']];
  const users = ids('u', 20).map((id, index) =>
    entityOf(
      'User',
      id,
      {
        tenant: tenantRef(index >= 18 ? TENANT_B : TENANT_A),
        ...(index % 2 === 0 ? { email: `${id}@a.test` } : {}),
      },
      [
        citadelEntity('Group', index >= 18 ? 'g5' : pick(ids('g', 5))),
        ...(index % 7 === 0 ? [citadelEntity('Group', pick(ids('g', 5)))] : []),
        ...(index === 0 ? [role('owner')] : []),
      ],
    ),
  );
  const ownedBy = (prefix: string, count: number, type: 'Document' | 'AgentRun' | 'Wallet') =>
    ids(prefix, count).map((id, index) =>
      entityOf(type, id, {
        tenant: tenantOf(index, count),
        [type === 'AgentRun' ? 'startedBy' : 'owner']: { __entity: pick(users).uid },
        ...(type === 'Document' ? { classification: pick(['internal', 'public']) } : {}),
      }),
    );
  return [
    ...['owner', 'admin', 'member', 'viewer', 'auditor'].map((name) => entityOf('Role', name, {})),
    // `organization` is optional and no policy reads it: it is left out of every decision.
    entityOf('Tenant', TENANT_A, {
      plan: 'starter',
      organization: { __entity: citadelEntity('Organization', 'o1') },
    }),
    entityOf('Tenant', TENANT_B, {}),
    ...groupRoles.map((roles, index) =>
      entityOf('Group', `g${index}`, { tenant: tenantOf(index, 6) }, roles.map(role)),
    ),
    ...users,
    ...[['read'], ['write'], ['read', 'write'], ['read']].map((scopes, index) =>
      entityOf(
        'ApiKey',
        `k${index}`,
        { tenant: tenantOf(index, 4), scopes },
        index === 1 ? [role('member')] : [],
      ),
    ),
    ...ownedBy('d', 12, 'Document'),
    ...ownedBy('r', 3, 'AgentRun'),
    ...ownedBy('w', 3, 'Wallet'),
    ...ids('c', 2).map((id) => entityOf('Course', id, { tenant: tenantRef(TENANT_A) })),
    ...['c0', 'c1', 'c1'].map((course, index) =>
      entityOf('Exam', `e${index}`, { tenant: tenantRef(TENANT_A) }, [
        citadelEntity('Course', course),
      ]),
    ),
  ];
}

/** Tenant policies with every kind of scope and condition the authorizer reasons about. */
const MODEL_POLICIES: Record<string, string> = {
  'tenant/g1-internal': `permit (principal in Citadel::Group::"g1", action in [Citadel::Action::"document.read", Citadel::Action::"document.search"], resource is Citadel::Document)
when { resource has classification && resource.classification == "internal" };`,
  'tenant/u3-writes': `permit (principal == Citadel::User::"u3", action == Citadel::Action::"document.write", resource);`,
  'tenant/course-1-members': `permit (principal in Citadel::Role::"member", action == Citadel::Action::"exam.take", resource in Citadel::Course::"c1");`,
  'tenant/read-by-owner-domain': `permit (principal, action == Citadel::Action::"document.read", resource is Citadel::Document)
when { resource has owner && resource.owner has email && resource.owner.email like "*@a.test" };`,
  'tenant/starter-viewers-run': `permit (principal in Citadel::Role::"viewer", action == Citadel::Action::"run.create", resource)
when { Citadel::Tenant::"${TENANT_A}" has plan && Citadel::Tenant::"${TENANT_A}".plan == "starter" };`,
  'tenant/g2-read-only': `permit (principal in Citadel::Group::"g2", action in Citadel::Action::"readOnly", resource);`,
  'tenant/g3-users-wallets': `permit (principal is Citadel::User in Citadel::Group::"g3", action == Citadel::Action::"wallet.read", resource);`,
  'tenant/no-d0': `forbid (principal, action, resource == Citadel::Document::"d0");`,
  'tenant/runs-of-own': `permit (principal, action == Citadel::Action::"run.read", resource is Citadel::AgentRun)
when { resource has startedBy && resource.startedBy == principal };`,
  'tenant/keys-no-d1': `forbid (principal is Citadel::ApiKey, action, resource == Citadel::Document::"d1");`,
};

const RESOURCES_BY_ACTION: ReadonlyArray<[CitadelAction, CitadelEntityType, string[]]> = [
  ['document.read', 'Document', [...ids('d', 12), 'd-missing']],
  ['document.search', 'Document', ids('d', 12)],
  ['document.write', 'Document', ids('d', 12)],
  ['run.read', 'AgentRun', ids('r', 3)],
  ['run.create', 'AgentRun', ids('r', 3)],
  ['exam.take', 'Exam', ids('e', 3)],
  ['wallet.read', 'Wallet', ids('w', 3)],
  ['wallet.transfer', 'Wallet', ids('w', 3)],
  ['tenant.read', 'Tenant', [TENANT_A, TENANT_B]],
  ['tenant.update', 'Tenant', [TENANT_A]],
  ['audit.read', 'Tenant', [TENANT_A]],
  // Not a pair the schema allows: Cedar refuses the request.
  ['tenant.read', 'Document', ['d2']],
];

/** Questions over the model: some by principals it lacks, some overriding its entities. */
function randomRequests(model: CedarEntity[], count: number): AuthorizationRequest[] {
  const pick = seeded(29);
  const principals = [
    ...ids('u', 20).map((id) => citadelEntity('User', id)),
    ...ids('k', 4).map((id) => citadelEntity('ApiKey', id)),
    citadelEntity('User', 'ghost'),
  ];
  return Array.from({ length: count }, (_, index) => {
    const [action, type, resources] = pick(RESOURCES_BY_ACTION);
    const principal = pick(principals);
    const mfa = pick([true, false]);
    const own = model.find((entity) => sameUid(entity, { uid: principal }));
    return {
      principal,
      action: citadelAction(action),
      resource: citadelEntity(type, pick(resources)),
      context: {
        mfa,
        ...(index % 2 === 0 ? { sourceIp: '10.0.0.1' } : {}),
        ...(action === 'wallet.transfer' ? { amountCents: 100 } : {}),
        // Contexts the schema refuses: a mistyped attribute, an undeclared one.
        ...(index % 23 === 0 ? { mfa: 'yes' } : {}),
        ...(index % 29 === 0 ? { undeclared: 1 } : {}),
      },
      // One request in eight says the principal is now an admin.
      ...(index % 8 === 0 && own !== undefined
        ? { entities: [{ ...own, parents: [citadelEntity('Role', 'admin')] }] }
        : {}),
    };
  });
}

describe('the plans’ default policies', () => {
  it.each(['starter', 'business', 'enterprise'])('validate against the schema (%s)', (plan) => {
    expect(
      validateCedarPolicies(CITADEL_CEDAR_SCHEMA, platformPoliciesFor(plan, TENANT_A)),
    ).toEqual([]);
  });
});

describe('createCedarAuthorizer', () => {
  const starter = authorizerFor('starter');

  it('allows by role and names the determining policy', () => {
    const decision = starter.authorize(ask('viewer-a', 'document.read', 'Document:doc-a'));
    expect(decision).toMatchObject({
      decision: 'allow',
      determiningPolicies: ['citadel/viewers'],
      errors: [],
    });
    expect(decision.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(decision.inputDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(decision.policySetDigest).toBe(starter.policySetDigest);
  });

  it('denies by default when nothing permits', () => {
    expect(starter.authorize(ask('viewer-a', 'document.write', 'Document:doc-a'))).toMatchObject({
      decision: 'deny',
      determiningPolicies: [],
    });
  });

  it('differs by plan: members write documents from business up', () => {
    const request = ask('member-a', 'document.write', 'Document:doc-a');
    expect(starter.authorize(request).decision).toBe('deny');
    expect(authorizerFor('business').authorize(request)).toMatchObject({
      decision: 'allow',
      determiningPolicies: ['citadel/plan-business-members-write'],
    });
  });

  it('forbids cross-tenant access whatever a tenant policy permits', () => {
    const permissive = authorizerFor('starter', {
      'tenant/everything': 'permit (principal, action, resource);',
    });
    const decision = permissive.authorize(ask('admin-a', 'document.read', 'Document:doc-b'));
    expect(decision.decision).toBe('deny');
    expect(decision.determiningPolicies).toContain('citadel/tenant-isolation');
    // A principal of another tenant is refused by the authorizer of tenant A even on its own data.
    const foreign = permissive.authorize(ask('admin-b', 'document.read', 'Document:doc-b'));
    expect(foreign).toMatchObject({
      decision: 'deny',
      determiningPolicies: ['citadel/tenant-pin'],
    });
    expect(permissive.authorize(ask('admin-a', 'tenant.read', `Tenant:${TENANT_B}`)).decision).toBe(
      'deny',
    );
  });

  it('fails closed when the principal entity is missing (the pin forbids what has no tenant)', () => {
    const permissive = authorizerFor('starter', {
      'tenant/everything': 'permit (principal, action, resource);',
    });
    const decision = permissive.authorize(ask('nobody', 'document.read', 'Document:doc-a'));
    expect(decision.decision).toBe('deny');
    expect(decision.determiningPolicies).toContain('citadel/tenant-pin');
  });

  it('denies a request the schema does not allow, with the reason', () => {
    const decision = starter.authorize(ask('viewer-a', 'tenant.read', 'Document:doc-a'));
    expect(decision.decision).toBe('deny');
    expect(decision.errors.join()).toMatch(/not valid for/);
  });

  it('lets request entities override the authorizer’s own', () => {
    const request = {
      ...ask('viewer-a', 'document.write', 'Document:doc-a'),
      entities: [user('viewer-a', TENANT_A, ['admin'])],
    };
    expect(starter.authorize(request).decision).toBe('allow');
  });

  it('digests the request canonically', () => {
    const a = starter.authorize({
      ...ask('viewer-a', 'document.read', 'Document:doc-a'),
      context: { mfa: true, sourceIp: '10.0.0.1' },
    });
    const b = starter.authorize({
      resource: citadelEntity('Document', 'doc-a'),
      context: { sourceIp: '10.0.0.1', mfa: true },
      action: citadelAction('document.read'),
      principal: { id: 'viewer-a', type: 'Citadel::User' },
    });
    expect(a.inputDigest).toBe(b.inputDigest);
    expect(a.decisionId).not.toBe(b.decisionId);
    const c = starter.authorize({
      ...ask('viewer-a', 'document.read', 'Document:doc-a'),
      context: {},
    });
    expect(c.inputDigest).not.toBe(a.inputDigest);
  });

  it('replaces policies, and keeps the old set when the new one is invalid', () => {
    const authorizer = authorizerFor('starter');
    const request = ask('viewer-a', 'document.write', 'Document:doc-a');
    const before = authorizer.policySetDigest;
    authorizer.replacePolicies({
      ...platformPoliciesFor('starter', TENANT_A),
      'tenant/viewers-write': `permit (principal in Citadel::Role::"viewer", action == Citadel::Action::"document.write", resource);`,
    });
    expect(authorizer.authorize(request)).toMatchObject({
      decision: 'allow',
      determiningPolicies: ['tenant/viewers-write'],
    });
    expect(authorizer.policySetDigest).not.toBe(before);
    expect(() => authorizer.replacePolicies({ broken: 'permit (principal, action' })).toThrow(
      CedarPolicyError,
    );
    expect(authorizer.authorize(request).decision).toBe('allow');
    authorizer.release();
    expect(authorizer.authorize(request).decision).toBe('deny');
  });
});

describe('validateCedarPolicies', () => {
  it('returns typed errors naming the policy', () => {
    const errors = validateCedarPolicies(CITADEL_CEDAR_SCHEMA, {
      'tenant/typo': `permit (principal, action == Citadel::Action::"document.read", resource) when { resource.nope == 1 };`,
      'tenant/unknown-action': `permit (principal, action == Citadel::Action::"document.destroy", resource);`,
    });
    expect(errors).toHaveLength(2);
    expect(errors).toContainEqual(
      expect.objectContaining({ policyId: 'tenant/typo', code: 'validation-error' }),
    );
    expect(errors.find((error) => error.policyId === 'tenant/typo')?.message).toMatch(/nope/);
    expect(errors).toContainEqual(
      expect.objectContaining({ policyId: 'tenant/unknown-action', code: 'validation-error' }),
    );
  });

  it('reports every unparsable policy, each by id, with a location', () => {
    const errors = validateCedarPolicies(CITADEL_CEDAR_SCHEMA, {
      one: 'permit (principal, action, resource',
      two: 'allow everything;',
      fine: 'permit (principal, action, resource);',
    });
    expect(errors.map((error) => [error.policyId, error.code])).toEqual([
      ['one', 'parse-error'],
      ['two', 'parse-error'],
    ]);
    expect(errors[0]?.location).toBeDefined();
  });

  it('is what createCedarAuthorizer refuses with', () => {
    expect(() =>
      createCedarAuthorizer({
        schema: CITADEL_CEDAR_SCHEMA,
        policies: { bad: 'permit (principal' },
      }),
    ).toThrow(expect.objectContaining({ errors: [expect.objectContaining({ policyId: 'bad' })] }));
  });
});

describe('splitCedarPolicies', () => {
  it('names one policy by its base id and several in source order', () => {
    expect(splitCedarPolicies('p', 'permit (principal, action, resource);').policies).toEqual({
      p: 'permit (principal, action, resource);',
    });
    const text = Array.from(
      { length: 11 },
      (_, index) => `permit (principal == Citadel::User::"u${index}", action, resource);`,
    ).join('\n');
    const { policies } = splitCedarPolicies('p', text);
    expect(Object.keys(policies)).toHaveLength(11);
    expect(policies['p#11']).toContain('"u10"');
    expect(policies['p#3']).toContain('"u2"');
  });

  it('refuses templates and empty texts', () => {
    expect(
      splitCedarPolicies('p', 'permit (principal == ?principal, action, resource);').errors[0]
        ?.code,
    ).toBe('template-not-allowed');
    expect(splitCedarPolicies('p', '// nothing').errors[0]?.code).toBe('parse-error');
    expect(splitCedarPolicies('p', 'permit (').errors[0]?.code).toBe('parse-error');
  });
});

describe('the entities a decision is given', () => {
  // Roles hang off groups, not users: a role policy holds only through the group's parent,
  // which the request does not pass — the authorizer's own entities supply it.
  const groups: CedarEntity[] = [
    {
      uid: citadelEntity('Group', 'editors'),
      attrs: { tenant: tenantRef(TENANT_A) },
      parents: [citadelEntity('Role', 'admin')],
    },
    ...['owner', 'admin', 'member', 'viewer'].map((role) => ({
      uid: citadelEntity('Role', role),
      attrs: {},
      parents: [],
    })),
    { uid: citadelEntity('Tenant', TENANT_A), attrs: { plan: 'starter' }, parents: [] },
    {
      uid: citadelEntity('User', 'alice'),
      attrs: { tenant: tenantRef(TENANT_A), email: 'alice@a.test' },
      parents: [],
    },
  ];
  const withGroups = (extra: Record<string, string> = {}) =>
    createCedarAuthorizer({
      schema: CITADEL_CEDAR_SCHEMA,
      policies: { ...platformPoliciesFor('starter', TENANT_A), ...extra },
      entities: groups,
    });
  const inEditors: CedarEntity = {
    ...user('ed', TENANT_A, []),
    parents: [citadelEntity('Group', 'editors')],
  };

  it('follows a group to its parent role though only the user is passed', () => {
    const decision = withGroups().authorize({
      ...ask('ed', 'document.write', 'Document:doc-a'),
      entities: [inEditors, documentOf('doc-a', TENANT_A)],
    });
    expect(decision).toMatchObject({ decision: 'allow', determiningPolicies: ['citadel/admins'] });
  });

  it('passes an entity reached only through an attribute', () => {
    const authorizer = withGroups({
      'tenant/alice-documents': `permit (principal, action == Citadel::Action::"document.read", resource is Citadel::Document)
when { resource has owner && resource.owner has email && resource.owner.email == "alice@a.test" };`,
    });
    const readBy = (owner: string) => ({
      principal: citadelEntity('User', 'carol'),
      action: citadelAction('document.read'),
      resource: citadelEntity('Document', 'doc-o'),
      entities: [user('carol', TENANT_A, []), documentOf('doc-o', TENANT_A, owner)],
    });
    // Alice, with her email, is one of the authorizer's entities, reached via resource.owner.
    expect(authorizer.authorize(readBy('alice'))).toMatchObject({
      decision: 'allow',
      determiningPolicies: ['tenant/alice-documents'],
    });
    expect(authorizer.authorize(readBy('bob')).decision).toBe('deny');
  });

  it('passes an entity a policy condition names', () => {
    const authorizer = withGroups({
      'tenant/starter-viewers-run': `permit (principal in Citadel::Role::"viewer", action == Citadel::Action::"run.create", resource)
when { Citadel::Tenant::"${TENANT_A}" has plan && Citadel::Tenant::"${TENANT_A}".plan == "starter" };`,
    });
    const decision = authorizer.authorize({
      principal: citadelEntity('User', 'viewer-a'),
      action: citadelAction('run.create'),
      resource: citadelEntity('AgentRun', 'run-1'),
      entities: [
        user('viewer-a', TENANT_A, ['viewer']),
        {
          uid: citadelEntity('AgentRun', 'run-1'),
          attrs: { tenant: tenantRef(TENANT_A) },
          parents: [],
        },
      ],
    });
    expect(decision).toMatchObject({
      decision: 'allow',
      determiningPolicies: ['tenant/starter-viewers-run'],
    });
  });

  it('refuses a request with two entities of the same uid', () => {
    const decision = withGroups().authorize({
      ...ask('ed', 'document.read', 'Document:doc-a'),
      entities: [inEditors, { ...inEditors, parents: [] }, documentOf('doc-a', TENANT_A)],
    });
    expect(decision.decision).toBe('deny');
    expect(decision.errors.join()).toMatch(/duplicate entity/);
  });

  it('refuses authorizer entities the schema does not accept, when it is built', () => {
    expect(() =>
      createCedarAuthorizer({
        schema: CITADEL_CEDAR_SCHEMA,
        policies: {},
        entities: [{ uid: citadelEntity('User', 'x'), attrs: {}, parents: [] }],
      }),
    ).toThrow(/invalid Cedar entities/);
  });
});

describe('policy subsets and entity selection', () => {
  // The oracle is Cedar itself, given every policy and every entity on every call: the
  // authorizer (matching subsets, reachable entities) must answer exactly as it does.
  const model = buildModel();
  const policies = { ...platformPoliciesFor('enterprise', TENANT_A), ...MODEL_POLICIES };
  const requests = randomRequests(model, 400);

  function oracle(request: AuthorizationRequest) {
    const answer = isAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context ?? {},
      schema: CITADEL_CEDAR_SCHEMA,
      validateRequest: true,
      policies: { staticPolicies: policies },
      entities: [
        ...model.filter((e) => !request.entities?.some((r) => sameUid(r, e))),
        ...(request.entities ?? []),
      ],
    });
    if (answer.type === 'failure')
      return { decision: 'deny', determiningPolicies: [], failed: true };
    const { decision, diagnostics } = answer.response;
    const erroredForbids = diagnostics.errors
      .map((error) => error.policyId)
      .filter((id) => policies[id]?.startsWith('forbid'));
    return decision === 'allow' && erroredForbids.length > 0
      ? { decision: 'deny', determiningPolicies: erroredForbids.sort(), failed: false }
      : { decision, determiningPolicies: [...diagnostics.reason].sort(), failed: false };
  }

  it.each([
    ['every subset kept', 64],
    ['few subsets, then the whole set', 3],
    ['no subsets', 0],
  ])('answers as Cedar with every policy and entity (%s)', (_, maxPolicySlices) => {
    const authorizer = createCedarAuthorizer({
      schema: CITADEL_CEDAR_SCHEMA,
      policies,
      entities: model,
      maxPolicySlices,
    });
    let allowed = 0;
    for (const request of requests) {
      const expected = oracle(request);
      const actual = authorizer.authorize(request);
      expect({ request, ...actual }).toMatchObject({
        request,
        decision: expected.decision,
        determiningPolicies: expected.determiningPolicies,
      });
      if (expected.failed) expect(actual.errors.length).toBeGreaterThan(0);
      if (actual.decision === 'allow') allowed += 1;
    }
    // The model is built so that both answers are common.
    expect(allowed).toBeGreaterThan(requests.length / 10);
    expect(allowed).toBeLessThan(requests.length * 0.9);
    expect(authorizer.policySlices).toBeLessThanOrEqual(maxPolicySlices);
    if (maxPolicySlices > 3) expect(authorizer.policySlices).toBeGreaterThan(3);
  });

  it('starts its subsets afresh when the policies change, and empties them on release', () => {
    const authorizer = createCedarAuthorizer({
      schema: CITADEL_CEDAR_SCHEMA,
      policies,
      entities: model,
    });
    const request = {
      principal: citadelEntity('User', 'u1'),
      action: citadelAction('document.search'),
      resource: citadelEntity('Document', 'd1'),
    };
    authorizer.authorize(request);
    expect(authorizer.policySlices).toBe(1);
    authorizer.replacePolicies({
      ...policies,
      'tenant/search-all': `permit (principal, action == Citadel::Action::"document.search", resource);`,
    });
    expect(authorizer.policySlices).toBe(0);
    expect(authorizer.authorize(request)).toMatchObject({
      decision: 'allow',
      determiningPolicies: expect.arrayContaining(['tenant/search-all']) as unknown,
    });
    authorizer.release();
    expect(authorizer.authorize(request).decision).toBe('deny');
  });
});

describe('digestAuthorizationRequest', () => {
  it('is the SHA-256 of the canonical JSON of the request, entities sorted by uid', () => {
    const request: AuthorizationRequest = {
      principal: citadelEntity('User', 'ü"\n'),
      action: citadelAction('document.read'),
      resource: citadelEntity('Document', 'doc-1'),
      context: { sourceIp: '10.0.0.1', mfa: true, é: 1.5e300, z: [-0, 2, 'x\u2028'] },
      entities: [
        documentOf('doc-1', TENANT_A, 'owner\ud800'),
        user('b', TENANT_A, ['viewer']),
        user('a', TENANT_A, ['admin', 'member']),
        {
          uid: citadelEntity('User', 'ä'),
          attrs: { tenant: tenantRef(TENANT_A), email: 'a@b' },
          parents: [],
          tags: { k: { n: 1, A: [true, null] } },
        },
      ],
    };
    const sorted = [...(request.entities ?? [])].sort((x, y) =>
      `${x.uid.type}::${JSON.stringify(x.uid.id)}` < `${y.uid.type}::${JSON.stringify(y.uid.id)}`
        ? -1
        : 1,
    );
    const canonical = canonicalJson({
      principal: { ...request.principal },
      action: { ...request.action },
      resource: { ...request.resource },
      context: request.context as JsonValue,
      entities: sorted as unknown as JsonValue,
    });
    expect(digestAuthorizationRequest(request)).toBe(
      createHash('sha256').update(canonical).digest('hex'),
    );
  });

  it('writes canonical JSON exactly as @citadel/contracts does', () => {
    const values: unknown[] = [
      { b: 1, a: [1, 'x', null, { d: false, c: 'é' }], A: {}, '': [] },
      { '\ud83d\ude00': 'emoji', 'a\\b': '\u0000\u001f"', 10: 'ten', 9: 'nine' },
      [0.1, 1e21, -1e-7, 123456789012345680000],
      'plain',
    ];
    for (const value of values) {
      expect(canonicalJsonText(value)).toBe(canonicalJson(value as JsonValue));
    }
    expect(() => canonicalJsonText({ x: Number.NaN })).toThrow(TypeError);
  });
});

describe('what a decision hands Cedar', () => {
  const conditionsOf = (...texts: string[]) =>
    readConditions(
      texts.map((text) => {
        const answer = policyToJson(text);
        if (answer.type === 'failure') throw new Error(answer.errors[0]?.message);
        return answer.json;
      }),
    );
  const schemaJson = schemaToJson(CITADEL_CEDAR_SCHEMA);
  if (schemaJson.type === 'failure') throw new Error('the schema has no JSON form');
  const attributes = readSchemaAttributes(schemaJson.json);

  it('reads the attributes, entity literals and context uses of conditions', () => {
    const reads = conditionsOf(
      `permit (principal, action, resource) when { principal has tenant.plan && context.mfa };`,
      `permit (principal in Citadel::Group::"g", action, resource) when { Citadel::Tenant::"t".plan == "x" };`,
    );
    expect([...reads.attributes].sort()).toEqual(['mfa', 'plan', 'tenant']);
    expect(reads.entities).toEqual([citadelEntity('Tenant', 't')]);
    expect(reads.wholeContext).toBe(false);
    // Reading a literal's attribute (`Citadel::Tenant::"t".plan`) reads another entity.
    expect(reads.readsOtherEntities).toBe(true);
    const shallow = conditionsOf(
      `permit (principal, action, resource) when { resource.owner == principal && principal in resource.owner && action in Citadel::Action::"readOnly" && context.mfa };`,
    );
    expect(shallow.readsOtherEntities).toBe(false);
    expect(
      conditionsOf(
        `permit (principal, action, resource) when { resource has owner && resource.owner in Citadel::Group::"g" };`,
      ).readsOtherEntities,
    ).toBe(true);
    expect(
      conditionsOf(`permit (principal, action, resource) when { context == {"mfa": true} };`)
        .wholeContext,
    ).toBe(true);
  });

  it('leaves out optional attributes no condition reads, and writes entity references bare', () => {
    const reads = conditionsOf(
      `permit (principal, action, resource) when { principal has tenant };`,
    );
    const [account] = prunedEntities(
      [
        {
          uid: citadelEntity('Account', 'a'),
          attrs: {
            email: 'a@b.test',
            tenant: tenantRef(TENANT_A),
            organization: { __entity: citadelEntity('Organization', 'o') },
          },
          parents: [],
        },
      ],
      attributes,
      reads,
    );
    // `email` is required, `tenant` is read, `organization` is optional and unread.
    expect(account?.attrs).toEqual({
      email: 'a@b.test',
      tenant: citadelEntity('Tenant', TENANT_A),
    });
    const context = { mfa: true, sourceIp: '10.0.0.1' };
    const contextRules = attributes.contextOf(citadelAction('document.read'));
    expect(prunedContext(context, contextRules, reads)).toEqual({});
    expect(prunedContext(context, contextRules, { ...reads, wholeContext: true })).toEqual(context);
  });

  it('does not pass entities left with nothing Cedar could read, unless the schema refuses them', () => {
    const reads = conditionsOf(
      `permit (principal, action, resource) when { principal has tenant };`,
    );
    const role = { uid: citadelEntity('Role', 'admin'), attrs: {}, parents: [] };
    const bareUser = { uid: citadelEntity('User', 'u'), attrs: {}, parents: [] };
    const tenant = {
      uid: citadelEntity('Tenant', TENANT_A),
      attrs: { organization: { __entity: citadelEntity('Organization', 'o') } },
      parents: [],
    };
    // The role has nothing; the tenant's one attribute is unread; a user must have a tenant.
    expect(prunedEntities([role, tenant, bareUser], attributes, reads)).toEqual([bareUser]);
  });

  it('still refuses a mistyped attribute, read by a policy or not', () => {
    const mistyped = {
      ...ask('viewer-a', 'document.read', 'Document:doc-a'),
      context: { sourceIp: 10 },
      entities: [
        {
          ...user('viewer-a', TENANT_A, ['viewer']),
          attrs: { tenant: tenantRef(TENANT_A), email: 5 },
        },
      ],
    };
    const decision = authorizerFor('starter').authorize(mistyped);
    expect(decision.decision).toBe('deny');
    expect(decision.errors.join()).toMatch(/email|sourceIp/);
    const { entities: _, ...withoutEntities } = mistyped;
    expect(authorizerFor('starter').authorize(withoutEntities).errors.join()).toMatch(/sourceIp/);
  });
});
