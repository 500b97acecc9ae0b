/**
 * The contract between the platform and a tenant's data-plane host: what a token that
 * reaches the host looks like, and who it names. The control plane signs (user access
 * tokens, gateway assertions); the host verifies. No imports, so the host pays nothing to
 * load it.
 */

/** The only signature algorithm either side accepts (Ed25519, RFC 8037). */
export const DATA_PLANE_TOKEN_ALGORITHM = 'EdDSA';
/** `typ` of a tenant user's access token (RFC 9068), forwarded by the gateway as is. */
export const USER_ACCESS_TOKEN_TYPE = 'at+jwt';
/**
 * `typ` of the assertion the gateway mints for API-key and operator callers: a distinct
 * type, so an assertion can never pass as a user's access token, nor the other way round.
 */
export const GATEWAY_ASSERTION_TYPE = 'citadel-gateway+jwt';
/** Seconds a gateway assertion lives: one request, retries and clock skew included. */
export const GATEWAY_ASSERTION_TTL_SECONDS = 60;

/** `aud` of a token for one data-plane service. */
export function serviceAudience(service: string): string {
  return `citadel:${service}`;
}

/** Who made a request, as the host proved it from a signed token. */
export type RequestPrincipal =
  | { type: 'user'; id: string; roles: readonly string[] }
  | { type: 'api-key'; id: string; scopes: readonly string[] }
  | { type: 'operator'; scopes: readonly string[] };

/** The principal types a gateway assertion may carry (`principal_type`). */
export type AssertedPrincipalType = 'api-key' | 'operator';

/**
 * The claims both token types carry beside the registered ones (`iss`, `sub`, `aud`,
 * `iat`, `exp`, `jti`): `tenant` (the tenant id) always; `roles` on user tokens;
 * `principal_type` and `scopes` on gateway assertions. `sub` is the user id, the API key
 * id, or `operator`.
 */
export interface DataPlaneTokenClaims {
  sub?: string | undefined;
  tenant?: unknown;
  roles?: unknown;
  principal_type?: unknown;
  scopes?: unknown;
}

/** `sub` of an assertion made for the platform operator. */
export const OPERATOR_SUBJECT = 'operator';

function stringsOf(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
    ? value
    : undefined;
}

/**
 * The principal named by a token whose signature, issuer, audience, tenant and lifetime
 * are already checked; undefined when its claims do not fit its type.
 */
export function principalFromClaims(
  type: string | undefined,
  claims: DataPlaneTokenClaims,
): RequestPrincipal | undefined {
  const subject = claims.sub;
  if (subject === undefined || subject === '') return undefined;
  if (type === USER_ACCESS_TOKEN_TYPE) {
    return { type: 'user', id: subject, roles: stringsOf(claims.roles) ?? [] };
  }
  if (type !== GATEWAY_ASSERTION_TYPE) return undefined;
  const scopes = stringsOf(claims.scopes);
  if (scopes === undefined) return undefined;
  if (claims.principal_type === 'api-key') return { type: 'api-key', id: subject, scopes };
  if (claims.principal_type === 'operator' && subject === OPERATOR_SUBJECT) {
    return { type: 'operator', scopes };
  }
  return undefined;
}
