import * as oidc from 'openid-client';
import { SsoError } from '../domain/sso-error.ts';

/** What the relying party needs to talk to one connection's IdP. */
export interface OidcClientSettings {
  /** Changes whenever the connection changes, so a cached configuration is never stale. */
  cacheKey: string;
  issuer: string;
  clientId: string;
  /**
   * Decrypts the client secret. Called only when a configuration is built (a cache miss),
   * so a login on a cached configuration costs no data-key unwrap.
   */
  readClientSecret(): Promise<string>;
}

export interface AuthorizationRequest {
  redirectUri: string;
  scopes: string[];
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface AuthorizationResult {
  /** The `redirect_uri` the browser came back to, with the IdP's query parameters. */
  callbackUrl: URL;
  expectedState: string;
  expectedNonce: string;
  codeVerifier: string;
}

/** OpenID Connect relying-party operations, on openid-client v6. */
export interface OidcRelyingParty {
  /** Discovery against `issuer`; rejects when it fails or names another issuer. */
  checkIssuer(issuer: string): Promise<void>;
  authorizationUrl(settings: OidcClientSettings, request: AuthorizationRequest): Promise<URL>;
  /**
   * Exchanges the code (PKCE), validates the ID token (signature, issuer, audience, nonce,
   * expiry) and returns its claims merged with the userinfo response.
   */
  completeLogin(
    settings: OidcClientSettings,
    result: AuthorizationResult,
  ): Promise<Record<string, unknown>>;
  /** The IdP's RP-initiated logout URL, when it has one. */
  endSessionUrl(settings: OidcClientSettings): Promise<string | undefined>;
}

export interface OidcRelyingPartyOptions {
  /** Seconds to wait for the IdP (default 10). */
  timeoutSeconds?: number;
  /** How long a discovered configuration is reused (default 10 minutes). */
  cacheTtlMs?: number;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Plain http is accepted only for an IdP on the loopback interface (a developer's Keycloak,
 * the test IdP); anything reached over a network must be https.
 */
function isLoopbackHttp(issuer: URL): boolean {
  return issuer.protocol === 'http:' && LOOPBACK_HOSTS.has(issuer.hostname);
}

/**
 * openid-client marks this deprecated "only to make it stand out": it is what permits http,
 * and it is used for loopback issuers alone.
 */
// eslint-disable-next-line @typescript-eslint/no-deprecated -- see above
const allowPlainHttp: (config: oidc.Configuration) => void = oidc.allowInsecureRequests;

function discoveryOptions(issuer: URL, timeout: number): oidc.DiscoveryRequestOptions {
  return {
    timeout,
    ...(isLoopbackHttp(issuer) ? { execute: [allowPlainHttp] } : {}),
  };
}

/** client_secret_basic is the default of OpenID Connect; post only when the IdP wants it. */
function clientAuthentication(metadata: oidc.ServerMetadata, secret: string): oidc.ClientAuth {
  const supported = metadata.token_endpoint_auth_methods_supported;
  if (supported !== undefined && !supported.includes('client_secret_basic')) {
    return oidc.ClientSecretPost(secret);
  }
  return oidc.ClientSecretBasic(secret);
}

function parseIssuer(issuer: string): URL {
  try {
    return new URL(issuer);
  } catch {
    throw new SsoError('issuer-discovery-failed', `"${issuer}" is not a URL.`);
  }
}

function describe(error: unknown): { message: string; oauthError?: string } {
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError) {
    return { message: error.error_description ?? error.message, oauthError: error.error };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Runs an IdP call, turning every failure into the SSO error `code`. */
async function callIdentityProvider<T>(
  code: 'issuer-discovery-failed' | 'identity-provider-error',
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SsoError) throw error;
    const { message, oauthError } = describe(error);
    throw new SsoError(code, message, oauthError === undefined ? {} : { error: oauthError });
  }
}

/** Creates the relying party with a small cache of discovered configurations. */
export function createOidcRelyingParty(options: OidcRelyingPartyOptions = {}): OidcRelyingParty {
  const timeout = options.timeoutSeconds ?? 10;
  const ttl = options.cacheTtlMs ?? 10 * 60_000;
  const cache = new Map<string, { config: Promise<oidc.Configuration>; expiresAt: number }>();

  async function discover(settings: OidcClientSettings): Promise<oidc.Configuration> {
    const issuer = parseIssuer(settings.issuer);
    const metadata = await callIdentityProvider('issuer-discovery-failed', async () => {
      // Discovery only needs the client id; the client authentication depends on the metadata.
      const probe = await oidc.discovery(
        issuer,
        settings.clientId,
        undefined,
        oidc.None(),
        discoveryOptions(issuer, timeout),
      );
      return probe.serverMetadata();
    });
    const config = new oidc.Configuration(
      metadata,
      settings.clientId,
      undefined,
      clientAuthentication(metadata, await settings.readClientSecret()),
    );
    config.timeout = timeout;
    if (isLoopbackHttp(issuer)) allowPlainHttp(config);
    return config;
  }

  function configurationFor(settings: OidcClientSettings): Promise<oidc.Configuration> {
    const now = Date.now();
    for (const [key, entry] of cache) if (entry.expiresAt <= now) cache.delete(key);
    const cached = cache.get(settings.cacheKey);
    if (cached) return cached.config;
    const config = discover(settings);
    cache.set(settings.cacheKey, { config, expiresAt: now + ttl });
    config.catch(() => cache.delete(settings.cacheKey));
    return config;
  }

  return {
    async checkIssuer(issuer) {
      const url = parseIssuer(issuer);
      await callIdentityProvider('issuer-discovery-failed', () =>
        oidc.discovery(
          url,
          'citadel-issuer-check',
          undefined,
          oidc.None(),
          discoveryOptions(url, timeout),
        ),
      );
    },
    async authorizationUrl(settings, request) {
      const config = await configurationFor(settings);
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: request.redirectUri,
        response_type: 'code',
        scope: request.scopes.join(' '),
        state: request.state,
        nonce: request.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(request.codeVerifier),
        code_challenge_method: 'S256',
      });
    },
    async completeLogin(settings, result) {
      const config = await configurationFor(settings);
      return callIdentityProvider('identity-provider-error', async () => {
        const tokens = await oidc.authorizationCodeGrant(config, result.callbackUrl, {
          pkceCodeVerifier: result.codeVerifier,
          expectedState: result.expectedState,
          expectedNonce: result.expectedNonce,
          idTokenExpected: true,
        });
        const idToken = tokens.claims();
        if (!idToken) throw new Error('the IdP returned no ID token');
        const userInfo = await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub);
        const claims: Record<string, unknown> = { ...userInfo, ...idToken };
        return claims;
      });
    },
    async endSessionUrl(settings) {
      const config = await configurationFor(settings);
      if (config.serverMetadata().end_session_endpoint === undefined) return undefined;
      return oidc.buildEndSessionUrl(config, { client_id: settings.clientId }).href;
    },
  };
}
