import { describe, expect, it } from 'vitest';
import { SsoError } from '../src/sso/domain/sso-error.ts';
import {
  mapIdentity,
  rolesForGroups,
  safeReturnTo,
  type ClaimMapping,
} from '../src/sso/domain/sso-identity-rules.ts';

const mapping: ClaimMapping = {
  emailClaim: 'email',
  nameClaim: 'name',
  groupsClaim: 'groups',
  groupRoles: { admins: 'admin', staff: 'member', owners: 'owner' },
  defaultRole: undefined,
  allowedEmailDomains: ['acme.example'],
};

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof SsoError ? error.code : 'not-an-sso-error';
  }
}

describe('SSO identity rules', () => {
  it('maps groups to roles, strongest first, without duplicates', () => {
    expect(rolesForGroups(['staff', 'admins', 'staff', 'other'], mapping)).toEqual([
      'admin',
      'member',
    ]);
    expect(rolesForGroups(['other'], mapping)).toEqual([]);
    expect(rolesForGroups([], { ...mapping, defaultRole: 'viewer' })).toEqual(['viewer']);
  });

  it('reads the configured claims, groups as an array or a space-separated string', () => {
    const identity = mapIdentity(
      { sub: 's1', mail: 'Ann@ACME.example', fullName: 'Ann', roles: 'owners staff' },
      { ...mapping, emailClaim: 'mail', nameClaim: 'fullName', groupsClaim: 'roles' },
    );
    expect(identity).toEqual({
      subject: 's1',
      email: 'Ann@ACME.example',
      displayName: 'Ann',
      groups: ['owners', 'staff'],
      roles: ['owner', 'member'],
    });
  });

  it('refuses missing or unverified emails and other domains', () => {
    expect(codeOf(() => mapIdentity({ sub: 's' }, mapping))).toBe('email-missing');
    expect(
      codeOf(() =>
        mapIdentity({ sub: 's', email: 'a@acme.example', email_verified: false }, mapping),
      ),
    ).toBe('email-missing');
    expect(codeOf(() => mapIdentity({ sub: 's', email: 'a@acme.example.evil' }, mapping))).toBe(
      'email-domain-not-allowed',
    );
    expect(codeOf(() => mapIdentity({ sub: 's', email: 'a@sub.acme.example' }, mapping))).toBe(
      'email-domain-not-allowed',
    );
    expect(
      codeOf(() =>
        mapIdentity({ sub: 's', email: 'x@any.example' }, { ...mapping, allowedEmailDomains: [] }),
      ),
    ).toBeUndefined();
  });

  it('accepts only same-origin relative return paths', () => {
    expect(safeReturnTo(undefined)).toBe('/');
    expect(safeReturnTo('/console?tab=1#x')).toBe('/console?tab=1#x');
    for (const unsafe of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example',
      'console',
      '/a\nb',
    ]) {
      expect(codeOf(() => safeReturnTo(unsafe))).toBe('invalid-return-to');
    }
  });
});
