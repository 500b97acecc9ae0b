import { SsoError } from './sso-error.ts';

/** The platform roles a tenant user can hold, strongest first. */
export const TENANT_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** How a connection reads the IdP's claims and turns groups into roles. */
export interface ClaimMapping {
  emailClaim: string;
  nameClaim: string;
  groupsClaim: string;
  groupRoles: Record<string, TenantRole>;
  defaultRole: TenantRole | undefined;
  /** Lower-case domains; empty allows every domain. */
  allowedEmailDomains: string[];
}

/** Who the IdP says logged in, after the connection's mapping. */
export interface MappedIdentity {
  subject: string;
  email: string;
  displayName: string | undefined;
  groups: string[];
  roles: TenantRole[];
}

function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Groups arrive as an array of strings, or (some IdPs) one space-separated string. */
function groupsClaim(claims: Record<string, unknown>, name: string): string[] {
  const value = claims[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value === 'string') return value.split(/\s+/).filter((item) => item !== '');
  return [];
}

/** The roles the groups map to, strongest first; the default role when none maps. */
export function rolesForGroups(groups: string[], mapping: ClaimMapping): TenantRole[] {
  const granted = new Set(groups.flatMap((group) => mapping.groupRoles[group] ?? []));
  const roles = TENANT_ROLES.filter((role) => granted.has(role));
  if (roles.length === 0 && mapping.defaultRole !== undefined) return [mapping.defaultRole];
  return roles;
}

/** The domain part of an address, lower-cased; undefined when it is not an address. */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return undefined;
  return email.slice(at + 1).toLowerCase();
}

/**
 * Maps verified claims (ID token + userinfo) to an identity, or says why it cannot log in:
 * no email, or an email outside the allowed domains. An `email_verified: false` is refused
 * too: an unverified address proves nothing about the domain.
 */
export function mapIdentity(
  claims: Record<string, unknown>,
  mapping: ClaimMapping,
): MappedIdentity {
  const subject = stringClaim(claims, 'sub') ?? '';
  const email = stringClaim(claims, mapping.emailClaim);
  if (email === undefined || claims.email_verified === false) {
    throw new SsoError('email-missing', `The IdP sent no verified "${mapping.emailClaim}" claim.`);
  }
  const domain = emailDomain(email);
  const allowed = mapping.allowedEmailDomains;
  if (domain === undefined || (allowed.length > 0 && !allowed.includes(domain))) {
    throw new SsoError(
      'email-domain-not-allowed',
      `The email domain "${domain ?? ''}" is not allowed for this connection.`,
      { email },
    );
  }
  const groups = groupsClaim(claims, mapping.groupsClaim);
  return {
    subject,
    email,
    displayName: stringClaim(claims, mapping.nameClaim),
    groups,
    roles: rolesForGroups(groups, mapping),
  };
}

/**
 * Only a same-origin relative path may follow a login: `/…` but not `//host` or `/\host`
 * (browsers read both as another origin), and no control characters.
 */
export function safeReturnTo(returnTo: string | undefined): string {
  if (returnTo === undefined || returnTo === '') return '/';
  const unsafe =
    !returnTo.startsWith('/') ||
    returnTo.startsWith('//') ||
    returnTo.startsWith('/\\') ||
    returnTo.length > 2_048 ||
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    /[\u0000-\u001f\u007f\\]/.test(returnTo);
  if (unsafe) {
    throw new SsoError('invalid-return-to', 'returnTo must be a relative path such as /console.');
  }
  return returnTo;
}
