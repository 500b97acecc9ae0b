import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWK, type JWTHeaderParameters } from 'jose';
import type { TokenSigningKeyStore } from '../adapters/token-signing-key-store.ts';

/** The data-plane services a tenant user may hold a token for. */
export const TOKEN_AUDIENCES = ['orchestrator', 'library', 'sapiens', 'payments'] as const;
export type TokenAudience = (typeof TOKEN_AUDIENCES)[number];

/** Access tokens live five minutes: a revoked session stops minting them soon enough. */
export const ACCESS_TOKEN_TTL_SECONDS = 300;
/** Clock difference tolerated between the platform and whoever checks `exp`. */
export const CLOCK_SKEW_SECONDS = 30;
/** RFC 9068 `typ`: these JWTs are access tokens, not ID tokens. */
const TOKEN_TYPE = 'at+jwt';
const ALGORITHM = 'EdDSA';

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
}

/** What a verified token proves; the gateway passes it on to the tenant's host. */
export interface UserPrincipal {
  type: 'user';
  id: string;
  roles: string[];
}

export interface AccessTokenService {
  issue(subject: AccessTokenSubject, audience: TokenAudience): Promise<IssuedAccessToken>;
  /** The principal, or undefined for any token that does not verify for this tenant and service. */
  verify(
    token: string,
    expected: { tenantId: string; service: string },
  ): Promise<UserPrincipal | undefined>;
  /** The JWKS document (RFC 7517) of every live public key. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** Rotates the signing key; returns the new key id. */
  rotate(): Promise<{ kid: string }>;
}

export interface AccessTokenServiceDeps {
  keys: TokenSigningKeyStore;
  /** The `iss` of every token: the platform's public base URL. */
  issuer: () => string;
}

/** `aud` of a token for `service`. */
export function audienceOf(service: string): string {
  return `citadel:${service}`;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Issues and verifies the short-lived EdDSA JWTs tenant users present to the data plane. */
export function createAccessTokenService(deps: AccessTokenServiceDeps): AccessTokenService {
  const keyFor = async (header: JWTHeaderParameters) => {
    const key = header.kid === undefined ? undefined : await deps.keys.publicKey(header.kid);
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key;
  };

  return {
    async issue(subject, audience) {
      const key = await deps.keys.current();
      const accessToken = await new SignJWT({
        tenant: subject.tenantId,
        tenant_slug: subject.tenantSlug,
        roles: subject.roles,
      })
        .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: TOKEN_TYPE })
        .setIssuer(deps.issuer())
        .setSubject(subject.userId)
        .setAudience(audienceOf(audience))
        .setIssuedAt()
        .setExpirationTime(`${String(ACCESS_TOKEN_TTL_SECONDS)}s`)
        .setJti(randomUUID())
        .sign(key.privateKey);
      return { accessToken, expiresIn: ACCESS_TOKEN_TTL_SECONDS, kid: key.kid };
    },

    async verify(token, expected) {
      try {
        const { payload } = await jwtVerify(token, keyFor, {
          algorithms: [ALGORITHM],
          typ: TOKEN_TYPE,
          issuer: deps.issuer(),
          audience: audienceOf(expected.service),
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
          clockTolerance: CLOCK_SKEW_SECONDS,
        });
        if (payload.tenant !== expected.tenantId || payload.sub === undefined) return undefined;
        const roles = isStringArray(payload.roles) ? payload.roles : [];
        return { type: 'user', id: payload.sub, roles };
      } catch (error) {
        if (error instanceof errors.JOSEError) return undefined;
        throw error;
      }
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
