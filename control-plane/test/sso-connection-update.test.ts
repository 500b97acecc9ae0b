import { describe, expect, it } from 'vitest';
import {
  connectionVersion,
  planConnectionUpdate,
} from '../src/sso/domain/sso-connection-update.ts';
import type { SsoConnectionRecord } from '../src/sso/domain/sso-repository.ts';

const current: SsoConnectionRecord = {
  id: '00000000-0000-4000-8000-000000000001',
  tenantId: '00000000-0000-4000-8000-000000000002',
  name: 'okta',
  issuer: 'https://idp.example',
  clientId: 'citadel',
  clientSecretCiphertext: Buffer.from('sealed'),
  keyVersion: 1,
  scopes: ['openid', 'email'],
  emailClaim: 'email',
  nameClaim: 'name',
  groupsClaim: 'groups',
  groupRoles: { admins: 'admin' },
  defaultRole: 'viewer',
  allowedEmailDomains: ['acme.example', 'contractors.example'],
  enabled: true,
  createdAt: new Date('2026-11-01T00:00:00Z'),
  updatedAt: new Date('2026-11-02T00:00:00Z'),
};

describe('planConnectionUpdate', () => {
  it('changes only what differs, naming the fields as the API does', () => {
    const plan = planConnectionUpdate(current, {
      name: 'okta',
      scopes: ['openid', 'email', 'groups'],
      claims: { groups: 'roles' },
      groupRoles: { admins: 'admin' },
    });
    expect(plan.changes).toEqual({ scopes: ['openid', 'email', 'groups'], groupsClaim: 'roles' });
    expect(plan.changedFields).toEqual(['scopes', 'claims.groups']);
    expect(plan.revoke).toBeUndefined();
  });

  it('writes nothing for a patch equal to the stored connection', () => {
    const plan = planConnectionUpdate(current, {
      enabled: true,
      defaultRole: 'viewer',
      allowedEmailDomains: ['ACME.example', 'contractors.example', 'acme.example'],
    });
    expect(plan.changedFields).toEqual([]);
    expect(plan.changes).toEqual({});
  });

  it('clears the default role with null and keeps it when absent', () => {
    expect(planConnectionUpdate(current, { defaultRole: null }).changes).toEqual({
      defaultRole: undefined,
    });
    expect('defaultRole' in planConnectionUpdate(current, { enabled: true }).changes).toBe(false);
  });

  it('counts a new client secret as a change without comparing it', () => {
    const plan = planConnectionUpdate(current, { clientSecret: 'rotated' });
    expect(plan.changedFields).toEqual(['clientSecret']);
    expect(plan.changes).toEqual({});
  });

  it('revokes every session when the connection is disabled', () => {
    const plan = planConnectionUpdate(current, { enabled: false, issuer: 'https://new.example' });
    expect(plan.revoke).toEqual({ kind: 'all' });
    expect(plan.changes).toMatchObject({ enabled: false, issuer: 'https://new.example' });
  });

  it('revokes the sessions outside the domains when they narrow, and none when they open up', () => {
    expect(planConnectionUpdate(current, { allowedEmailDomains: ['Acme.example'] }).revoke).toEqual(
      { kind: 'outside-domains', domains: ['acme.example'] },
    );
    expect(planConnectionUpdate(current, { allowedEmailDomains: [] }).revoke).toBeUndefined();
  });

  it('versions a connection by its update time', () => {
    const later = { updatedAt: new Date(current.updatedAt.getTime() + 1) };
    expect(connectionVersion(current)).not.toBe(connectionVersion(later));
    expect(connectionVersion(current)).toMatch(/^[0-9a-z]+$/);
  });
});
