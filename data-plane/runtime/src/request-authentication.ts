import type * as JoseModule from 'jose';
import type { FlattenedJWSInput, JWTHeaderParameters, JWTVerifyResult } from 'jose';
import {
  DATA_PLANE_TOKEN_ALGORITHM,
  principalFromClaims,
  serviceAudience,
  type RequestPrincipal,
} from './data-plane-token.ts';

/** A request whose bearer token verified for this host's tenant and the service asked for. */
export interface AuthenticatedRequest {
  principal: RequestPrincipal;
  /** The token's `jti`, for logs and audit trails. */
  tokenId: string;
}

/** Why a request was refused; `keys-unavailable` is the platform's fault (503), the rest 401. */
export type AuthenticationFailureReason =
  | 'missing-token'
  | 'invalid-token'
  | 'expired-token'
  | 'wrong-tenant'
  | 'wrong-audience'
  | 'keys-unavailable'
  | 'not-configured';

export type AuthenticationResult =
  | { ok: true; request: AuthenticatedRequest }
  | { ok: false; reason: AuthenticationFailureReason; detail: string };

/** Checks the `Authorization` header of one request for one service. */
export interface RequestAuthenticator {
  authenticate(authorization: string | undefined, service: string): Promise<AuthenticationResult>;
}

export interface TokenAuthenticatorOptions {
  /** This host's tenant: a token for any other tenant is refused. */
  tenantId: string;
  /** The platform's `iss`. */
  issuer: string;
  /** The platform's JWKS (`/.well-known/jwks.json`), fetched lazily and cached. */
  jwksUrl: URL;
  /** Clock difference tolerated on `exp`, `nbf` and `iat`. Default 5 s. */
  clockToleranceSeconds?: number;
  /**
   * An unknown `kid` (a key rotated in since the last fetch) re-fetches the key set at
   * most this often; a miss inside the interval waits for it. Default 1000 ms.
   */
  keyRefetchIntervalMs?: number;
  /** Gives up on a JWKS fetch after this long. Default 2000 ms. */
  fetchTimeoutMs?: number;
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
const DEFAULT_KEY_REFETCH_INTERVAL_MS = 1_000;
const DEFAULT_FETCH_TIMEOUT_MS = 2_000;
/** Refused whatever its `exp` says: no token the platform issues lives this long. */
const MAX_TOKEN_AGE = '10m';
/** How long fetched keys are trusted without a refetch; a miss refetches sooner. */
const KEY_SET_MAX_AGE_MS = 10 * 60_000;

type Jose = typeof JoseModule;
type KeyResolver = (
  header: JWTHeaderParameters,
  token: FlattenedJWSInput,
) => ReturnType<ReturnType<Jose['createRemoteJWKSet']>>;

/** Thrown by the key resolver when the platform's key set cannot be fetched. */
class KeysUnavailable extends Error {
  constructor(cause: unknown) {
    super('The platform key set could not be fetched.', { cause });
    this.name = 'KeysUnavailable';
  }
}

/** The token of an `Authorization: Bearer …` header (RFC 6750), or undefined. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  return authorization === undefined
    ? undefined
    : /^Bearer[ \t]+([\w\-.~+/]+=*)[ \t]*$/i.exec(authorization)?.[1];
}

function refused(reason: AuthenticationFailureReason, detail: string): AuthenticationResult {
  return { ok: false, reason, detail };
}

/**
 * Serves the platform's key set to jose, and on an unknown `kid` fetches it again, at most
 * once per interval: every concurrent miss shares the one fetch, and a flood of made-up
 * kids costs the platform one request per interval.
 */
function createKeyResolver(jose: Jose, options: Required<TokenAuthenticatorOptions>): KeyResolver {
  const remote = jose.createRemoteJWKSet(options.jwksUrl, {
    timeoutDuration: options.fetchTimeoutMs,
    cacheMaxAge: KEY_SET_MAX_AGE_MS,
    // jose never re-fetches on a miss by itself: refetchOnMiss below decides when.
    cooldownDuration: Number.POSITIVE_INFINITY,
  });
  let lastRefetchAt = 0;
  let pending: Promise<void> | undefined;
  const refetchOnMiss = (): Promise<void> => {
    pending ??= (async () => {
      const wait = lastRefetchAt + options.keyRefetchIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      lastRefetchAt = Date.now();
      await remote.reload();
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  const fetching = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof jose.errors.JOSEError && !isFetchFailure(jose, error)) throw error;
      throw new KeysUnavailable(error);
    }
  };
  return async (header, token) => {
    try {
      return await fetching(() => remote(header, token));
    } catch (error) {
      if (!(error instanceof jose.errors.JWKSNoMatchingKey)) throw error;
      await fetching(refetchOnMiss);
      return fetching(() => remote(header, token));
    }
  };
}

/** A failed fetch surfaces as a timeout, an invalid key set, or jose's generic error (non-200, not JSON). */
function isFetchFailure(jose: Jose, error: InstanceType<Jose['errors']['JOSEError']>): boolean {
  return (
    error instanceof jose.errors.JWKSTimeout ||
    error instanceof jose.errors.JWKSInvalid ||
    error.code === 'ERR_JOSE_GENERIC'
  );
}

/** Maps jose's verdict on a token to the reason the host gives. */
function failureOf(jose: Jose, error: unknown): AuthenticationResult {
  if (error instanceof KeysUnavailable) {
    return refused('keys-unavailable', 'The platform signing keys could not be fetched.');
  }
  if (error instanceof jose.errors.JWTExpired) {
    return refused('expired-token', 'The token has expired.');
  }
  if (error instanceof jose.errors.JWTClaimValidationFailed && error.claim === 'aud') {
    return refused('wrong-audience', 'The token is for another service.');
  }
  if (error instanceof jose.errors.JOSEError) {
    return refused('invalid-token', 'The token does not verify.');
  }
  throw error;
}

/**
 * Verifies the bearer JWT of every request locally: EdDSA only, signed by a key of the
 * platform's JWKS, issued by the platform, for this tenant and for `citadel:<service>`,
 * in date (small clock tolerance). jose is loaded on the first request, not at start: a
 * host starts on the tenant-provisioning path, where every import costs.
 */
export function createTokenAuthenticator(options: TokenAuthenticatorOptions): RequestAuthenticator {
  const settings: Required<TokenAuthenticatorOptions> = {
    clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS,
    keyRefetchIntervalMs: DEFAULT_KEY_REFETCH_INTERVAL_MS,
    fetchTimeoutMs: DEFAULT_FETCH_TIMEOUT_MS,
    ...options,
  };
  let loaded: Promise<{ jose: Jose; keys: KeyResolver }> | undefined;
  const load = () =>
    (loaded ??= import('jose').then((jose) => ({
      jose,
      keys: createKeyResolver(jose, settings),
    })));

  const verify = async (token: string, service: string): Promise<AuthenticationResult> => {
    const { jose, keys } = await load();
    let result: JWTVerifyResult;
    try {
      result = await jose.jwtVerify(token, keys, {
        algorithms: [DATA_PLANE_TOKEN_ALGORITHM],
        issuer: settings.issuer,
        audience: serviceAudience(service),
        requiredClaims: ['sub', 'iat', 'exp', 'jti'],
        clockTolerance: settings.clockToleranceSeconds,
        maxTokenAge: MAX_TOKEN_AGE,
      });
    } catch (error) {
      return failureOf(jose, error);
    }
    const { payload, protectedHeader } = result;
    if (payload.tenant !== settings.tenantId) {
      return refused('wrong-tenant', 'The token is for another tenant.');
    }
    const principal = principalFromClaims(protectedHeader.typ, payload);
    if (!principal) return refused('invalid-token', 'The token names no principal.');
    return { ok: true, request: { principal, tokenId: payload.jti ?? '' } };
  };

  return {
    async authenticate(authorization, service) {
      const token = bearerTokenOf(authorization);
      if (token === undefined) {
        return refused('missing-token', 'A bearer token issued by the platform is required.');
      }
      return verify(token, service);
    },
  };
}

/** For a host started without the platform's issuer and JWKS: it serves health checks only. */
export function createRefusingAuthenticator(): RequestAuthenticator {
  const result = refused('not-configured', 'This host has no token issuer configured.');
  return { authenticate: () => Promise.resolve(result) };
}
