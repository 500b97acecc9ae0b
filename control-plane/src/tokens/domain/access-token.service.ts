import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWK, type JWTHeaderParameters } from 'jose';
import {
  DATA_PLANE_TOKEN_ALGORITHM,
  GATEWAY_ASSERTION_TTL_SECONDS,
  GATEWAY_ASSERTION_TYPE,
  OPERATOR_SUBJECT,
  serviceAudience,
  USER_ACCESS_TOKEN_TYPE,
} from '@citadel/data-plane-runtime';
import type { TokenSigningKeyStore } from '../adapters/token-signing-key-store.ts';
import { isRevoked, type CredentialState } from './credential-revocation.ts';

/** The data-plane services a tenant user may hold a token for. */
export const TOKEN_AUDIENCES = ['orchestrator', 'library', 'sapiens', 'payments'] as const;
export type TokenAudience = (typeof TOKEN_AUDIENCES)[number];

/** Access tokens live five minutes; revocation is checked on every request besides. */
export const ACCESS_TOKEN_TTL_SECONDS = 300;
/** Clock difference tolerated between the platform and whoever checks `exp`. */
export const CLOCK_SKEW_SECONDS = 30;

/** Who the token is for: a tenant user with a live session. */
export interface AccessTokenSubject {
  tenantId: string;
  tenantSlug: string;
  userId: string;
  roles: string[];
}

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
  kid: string;
  /** The token's `jti`. */
  tokenId: string;
}

/** What a verified token proves; the gateway forwards the token itself to the host. */
export interface UserPrincipal {
  type: 'user';
  id: string;
  roles: string[];
}

/** Why the gateway refuses a user's token; each is recorded in the tenant's audit log. */
export type AccessTokenRefusal =
  /** Bad signature, wrong tenant or service, expired, unknown key: not ours to trust. */
  | 'invalid'
  /** Issued before the user's credentials were revoked (deactivation, deletion). */
  | 'revoked'
  /** The user is deactivated now. */
  | 'user-inactive'
  /** No such user in the tenant any more (deleted). */
  | 'user-unknown';

export type AccessTokenVerification =
  | { ok: true; principal: UserPrincipal }
  | { ok: false; reason: AccessTokenRefusal; userId?: string | undefined };

/** A caller the gateway admitted on a credential other than a user token. */
export type AssertedPrincipal =
  { type: 'api-key'; id: string; scopes: string[] } | { type: 'operator' };

/** Where an assertion goes: one tenant's one service. */
export interface AssertionTarget {
  tenantId: string;
  tenantSlug: string;
  service: string;
}

export interface AccessTokenService {
  issue(subject: AccessTokenSubject, audience: TokenAudience): Promise<IssuedAccessToken>;
  /**
   * Checks the signature and claims of a user's token for this tenant and service, then
   * the user's current state (one indexed lookup): active, and not revoked since `iat`.
   */
  verify(
    token: string,
    expected: { tenantId: string; service: string },
  ): Promise<AccessTokenVerification>;
  /**
   * A 60-second assertion, signed with the same keys, that tells the tenant's host who the
   * gateway admitted on an API key or the operator token; the host trusts nothing else.
   */
  assert(principal: AssertedPrincipal, target: AssertionTarget): Promise<string>;
  /** The JWKS document (RFC 7517) of every live public key. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** Rotates the signing key; returns the new key id. */
  rotate(): Promise<{ kid: string }>;
}

/** Reads the credential state of a tenant's user; undefined when the user is gone. */
export type CredentialStateReader = (
  tenantId: string,
  userId: string,
) => Promise<CredentialState | undefined>;

export interface AccessTokenServiceDeps {
  keys: TokenSigningKeyStore;
  /** The `iss` of every token: the platform's public base URL. */
  issuer: () => string;
  credentialState: CredentialStateReader;
}

/** How a token's audience appears as the target of an audit entry. */
export function audienceTarget(service: string): { type: 'token-audience'; id: string } {
  return { type: 'token-audience', id: serviceAudience(service) };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Issues and verifies the short-lived EdDSA JWTs of the data plane. */
export function createAccessTokenService(deps: AccessTokenServiceDeps): AccessTokenService {
  const keyFor = async (header: JWTHeaderParameters) => {
    const key = header.kid === undefined ? undefined : await deps.keys.publicKey(header.kid);
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key;
  };

  /** The verified claims, or undefined for anything that does not verify. */
  const verifiedClaims = async (token: string, expected: { tenantId: string; service: string }) => {
    try {
      const { payload } = await jwtVerify(token, keyFor, {
        algorithms: [DATA_PLANE_TOKEN_ALGORITHM],
        typ: USER_ACCESS_TOKEN_TYPE,
        issuer: deps.issuer(),
        audience: serviceAudience(expected.service),
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        clockTolerance: CLOCK_SKEW_SECONDS,
      });
      return payload.tenant === expected.tenantId ? payload : undefined;
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  };

  return {
    async issue(subject, audience) {
      const key = await deps.keys.current();
      const tokenId = randomUUID();
      const accessToken = await new SignJWT({
        tenant: subject.tenantId,
        tenant_slug: subject.tenantSlug,
        roles: subject.roles,
      })
        .setProtectedHeader({
          alg: DATA_PLANE_TOKEN_ALGORITHM,
          kid: key.kid,
          typ: USER_ACCESS_TOKEN_TYPE,
        })
        .setIssuer(deps.issuer())
        .setSubject(subject.userId)
        .setAudience(serviceAudience(audience))
        .setIssuedAt()
        .setExpirationTime(`${String(ACCESS_TOKEN_TTL_SECONDS)}s`)
        .setJti(tokenId)
        .sign(key.privateKey);
      return { accessToken, expiresIn: ACCESS_TOKEN_TTL_SECONDS, kid: key.kid, tokenId };
    },

    async verify(token, expected) {
      const claims = await verifiedClaims(token, expected);
      const userId = claims?.sub;
      if (claims?.iat === undefined || userId === undefined)
        return { ok: false, reason: 'invalid' };
      const state = await deps.credentialState(expected.tenantId, userId);
      if (!state) return { ok: false, reason: 'user-unknown', userId };
      if (!state.active) return { ok: false, reason: 'user-inactive', userId };
      if (isRevoked(claims.iat, state)) return { ok: false, reason: 'revoked', userId };
      const roles = isStringArray(claims.roles) ? claims.roles : [];
      return { ok: true, principal: { type: 'user', id: userId, roles } };
    },

    async assert(principal, target) {
      const key = await deps.keys.current();
      const subject = principal.type === 'operator' ? OPERATOR_SUBJECT : principal.id;
      return new SignJWT({
        tenant: target.tenantId,
        tenant_slug: target.tenantSlug,
        principal_type: principal.type,
        scopes: principal.type === 'operator' ? [] : principal.scopes,
      })
        .setProtectedHeader({
          alg: DATA_PLANE_TOKEN_ALGORITHM,
          kid: key.kid,
          typ: GATEWAY_ASSERTION_TYPE,
        })
        .setIssuer(deps.issuer())
        .setSubject(subject)
        .setAudience(serviceAudience(target.service))
        .setIssuedAt()
        .setExpirationTime(`${String(GATEWAY_ASSERTION_TTL_SECONDS)}s`)
        .setJti(randomUUID())
        .sign(key.privateKey);
    },

    async jwks() {
      return { keys: await deps.keys.publicJwks() };
    },

    async rotate() {
      const key = await deps.keys.rotate();
      return { kid: key.kid };
    },
  };
}
