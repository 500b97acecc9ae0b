import { describe, expect, it } from 'vitest';
import {
  CedarPolicyError,
  createCedarAuthorizer,
  splitCedarPolicies,
  validateCedarPolicies,
  type CedarEntity,
} from '../src/authorization/cedar-authorizer.ts';
import {
  CITADEL_CEDAR_SCHEMA,
  citadelAction,
  citadelEntity,
} from '../src/authorization/citadel-schema.ts';
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
