import { describe, expect, it } from 'vitest';
import { createDataPlaneAuthorizer } from '../src/authorization/data-plane-authorizer.ts';
import { citadelEntity } from '../src/authorization/citadel-schema.ts';
import type { CedarEntity } from '../src/authorization/cedar-authorizer.ts';

const TENANT_A = '0b7f9a52-6c1e-4d8e-9a0f-3e2d1c4b5a61';
const TENANT_B = '5c3e1f7a-2b4d-4e6f-8a9b-0c1d2e3f4a5b';

function documentOf(id: string, tenantId: string, ownerId?: string): CedarEntity {
  return {
    uid: citadelEntity('Document', id),
    attrs: {
      tenant: { __entity: citadelEntity('Tenant', tenantId) },
      ...(ownerId === undefined ? {} : { owner: { __entity: citadelEntity('User', ownerId) } }),
    },
    parents: [],
  };
}

describe('createDataPlaneAuthorizer', () => {
  const authorizer = createDataPlaneAuthorizer({ tenantId: TENANT_A, planId: 'business' });

  it('decides from the verified principal: roles for users, scopes for API keys', () => {
    const viewer = { type: 'user' as const, id: 'u1', roles: ['viewer'] };
    const doc = documentOf('d1', TENANT_A);
    expect(
      authorizer.authorize({ principal: viewer, action: 'document.read', resource: doc }),
    ).toMatchObject({ decision: 'allow', determiningPolicies: ['citadel/viewers'] });
    expect(
      authorizer.authorize({ principal: viewer, action: 'document.write', resource: doc }).decision,
    ).toBe('deny');
    const reader = { type: 'api-key' as const, id: 'k1', scopes: ['read'] };
    expect(
      authorizer.authorize({ principal: reader, action: 'document.search', resource: doc })
        .decision,
    ).toBe('allow');
    expect(
      authorizer.authorize({ principal: reader, action: 'document.write', resource: doc }).decision,
    ).toBe('deny');
  });

  it("never lets a principal reach another tenant's resource", () => {
    const owner = { type: 'user' as const, id: 'u2', roles: ['owner'] };
    const foreign = documentOf('d2', TENANT_B);
    const decision = authorizer.authorize({
      principal: owner,
      action: 'document.read',
      resource: foreign,
    });
    expect(decision.decision).toBe('deny');
    expect(decision.determiningPolicies).toContain('citadel/tenant-isolation');
  });

  it('ignores roles the schema does not know and denies the operator tenant data', () => {
    const forged = { type: 'user' as const, id: 'u3', roles: ['superuser'] };
    const doc = documentOf('d3', TENANT_A);
    expect(
      authorizer.authorize({ principal: forged, action: 'document.read', resource: doc }).decision,
    ).toBe('deny');
    const operator = { type: 'operator' as const, scopes: [] };
    expect(
      authorizer.authorize({ principal: operator, action: 'document.read', resource: doc })
        .decision,
    ).toBe('deny');
  });

  it("applies the tenant's own policies, and a forbid binds even owners", () => {
    const strict = createDataPlaneAuthorizer({
      tenantId: TENANT_A,
      planId: 'business',
      tenantPolicies: {
        'tenant/no-secret-docs': `forbid (principal, action, resource is Citadel::Document)
when { resource has classification && resource.classification == "secret" };`,
      },
    });
    const owner = { type: 'user' as const, id: 'u4', roles: ['owner'] };
    const secret: CedarEntity = {
      ...documentOf('d4', TENANT_A),
      attrs: { ...documentOf('d4', TENANT_A).attrs, classification: 'secret' },
    };
    expect(
      strict.authorize({ principal: owner, action: 'document.read', resource: secret }),
    ).toMatchObject({ decision: 'deny', determiningPolicies: ['tenant/no-secret-docs'] });
  });
});
