import { isDeepStrictEqual } from 'node:util';
import type { TenantRole } from './sso-identity-rules.ts';
import type { SsoConnectionRecord, SsoConnectionWrite } from './sso-repository.ts';

/**
 * A partial change to a connection, as an admin sends it. Absent fields stay as they are;
 * `defaultRole: null` removes the default role (JSON merge-patch semantics, RFC 7396).
 */
export interface SsoConnectionPatch {
  name?: string | undefined;
  issuer?: string | undefined;
  clientId?: string | undefined;
  /** A new client secret: the old one is replaced (rotation), never shown. */
  clientSecret?: string | undefined;
  scopes?: string[] | undefined;
  claims?: { email?: string | undefined; name?: string | undefined; groups?: string | undefined };
  groupRoles?: Record<string, TenantRole> | undefined;
  defaultRole?: TenantRole | null | undefined;
  allowedEmailDomains?: string[] | undefined;
  enabled?: boolean | undefined;
}

/** The columns an update may write; the secret is set by the service once encrypted. */
export type SsoConnectionChanges = Partial<Omit<SsoConnectionWrite, 'id'>>;

/**
 * Which of the connection's sessions end with the update: all of them (disabled), or those
 * of users whose email domain the connection no longer allows.
 */
export type SessionRevocation = { kind: 'all' } | { kind: 'outside-domains'; domains: string[] };

/**
 * What an update does, decided from the stored connection and the patch alone. A changed
 * issuer (`changes.issuer`) must pass discovery before anything is written.
 */
export interface ConnectionUpdatePlan {
  changes: SsoConnectionChanges;
  /** The API names of what changed, for the audit log (never values of secrets). */
  changedFields: string[];
  revoke: SessionRevocation | undefined;
}

/**
 * The connection's version, as `ETag`/`If-Match` carry it: its `updatedAt`, which every
 * update moves forward.
 */
export function connectionVersion(connection: Pick<SsoConnectionRecord, 'updatedAt'>): string {
  return connection.updatedAt.getTime().toString(36);
}

/** Lower-case, without duplicates, in the order given. */
export function normalizeDomains(domains: string[]): string[] {
  return [...new Set(domains.map((domain) => domain.toLowerCase()))];
}

/** The stored value each patch field maps to (claims are three columns). */
function patchedValues(current: SsoConnectionRecord, patch: SsoConnectionPatch) {
  return {
    name: patch.name,
    issuer: patch.issuer,
    clientId: patch.clientId,
    scopes: patch.scopes,
    emailClaim: patch.claims?.email,
    nameClaim: patch.claims?.name,
    groupsClaim: patch.claims?.groups,
    groupRoles: patch.groupRoles,
    // null clears; undefined (absent) keeps the current role.
    defaultRole:
      patch.defaultRole === null ? undefined : (patch.defaultRole ?? current.defaultRole),
    allowedEmailDomains:
      patch.allowedEmailDomains === undefined
        ? undefined
        : normalizeDomains(patch.allowedEmailDomains),
    enabled: patch.enabled,
  } satisfies SsoConnectionChanges;
}

/** The API's name of a column, as the audit log reports it. */
const FIELD_NAMES: Record<keyof ReturnType<typeof patchedValues>, string> = {
  name: 'name',
  issuer: 'issuer',
  clientId: 'clientId',
  scopes: 'scopes',
  emailClaim: 'claims.email',
  nameClaim: 'claims.name',
  groupsClaim: 'claims.groups',
  groupRoles: 'groupRoles',
  defaultRole: 'defaultRole',
  allowedEmailDomains: 'allowedEmailDomains',
  enabled: 'enabled',
};

/**
 * Decides an update: the columns that really change (a value equal to the stored one is not
 * a change), whether the issuer must be discovered again, and which sessions end.
 *
 * Disabling ends every session the connection created: an admin disables a connection to
 * stop its users, and a session outliving that would keep them in for hours. Narrowing the
 * allowed domains ends the sessions of users outside them, for the same reason. A changed
 * role mapping does not: roles are recomputed at each login, and disabling is the lever for
 * "everyone out now".
 */
export function planConnectionUpdate(
  current: SsoConnectionRecord,
  patch: SsoConnectionPatch,
): ConnectionUpdatePlan {
  const values = patchedValues(current, patch);
  const changed = (Object.keys(values) as Array<keyof typeof values>).filter((key) => {
    const value = values[key];
    if (value === undefined && key !== 'defaultRole') return false; // absent: kept
    return !isDeepStrictEqual(value, current[key]);
  });
  const changes: SsoConnectionChanges = Object.fromEntries(
    changed.map((key) => [key, values[key]]),
  );
  const changedFields = changed.map((key) => FIELD_NAMES[key]);
  if (patch.clientSecret !== undefined) changedFields.push('clientSecret');
  const domains = values.allowedEmailDomains;
  let revoke: SessionRevocation | undefined;
  if (patch.enabled === false) revoke = { kind: 'all' };
  else if (changes.allowedEmailDomains !== undefined && domains !== undefined && domains.length > 0)
    revoke = { kind: 'outside-domains', domains };
  return {
    changes,
    changedFields,
    revoke,
  };
}
