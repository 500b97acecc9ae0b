import type { TenantResource } from '@citadel/contracts';
import type { PrismaClient } from '../adapters/prisma-client.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { PlatformModuleRoutes } from '../http/platform-app.ts';
import type { SsoLoginService } from '../sso/domain/sso-login.service.ts';
import { createPrismaCredentialStateReader } from './adapters/prisma-credential-state.ts';
import { loadTokenSigningKeyStore } from './adapters/token-signing-key-store.ts';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  CLOCK_SKEW_SECONDS,
  createAccessTokenService,
  type AccessTokenService,
} from './domain/access-token.service.ts';
import { createTokenIssuanceService } from './domain/token-issuance.service.ts';
import {
  createJwksRouter,
  createTokenKeyRouter,
  createTokenRouter,
  type TokenRoutesDeps,
} from './http/token-routes.ts';

/** The signing key is replaced once it is this old. */
export const TOKEN_SIGNING_KEY_MAX_AGE_DAYS = 30;
const DAY_MS = 24 * 60 * 60_000;

export interface TokensModuleDeps {
  prisma: PrismaClient;
  dataDir: string;
  /** The platform's public base URL, the tokens' `iss`; known once the server listens. */
  issuer: () => string;
  logins: SsoLoginService;
  getTenant: (slug: string) => Promise<TenantResource | undefined>;
  /** Token issuance and its refusals go to the tenant's audit log. */
  audit: AuditRecorder;
  limitLogin?: TokenRoutesDeps['limitLogin'];
}

export interface TokensModule {
  tokens: AccessTokenService;
  routes: PlatformModuleRoutes[];
}

/** Wires data-plane access tokens: the key store, the issuer, the JWKS and token routes. */
export async function createTokensModule(deps: TokensModuleDeps): Promise<TokensModule> {
  const keys = await loadTokenSigningKeyStore({
    dataDir: deps.dataDir,
    maxKeyAgeMs: TOKEN_SIGNING_KEY_MAX_AGE_DAYS * DAY_MS,
    // A replaced key verifies until every token it signed has expired, skew included.
    retireAfterMs: (ACCESS_TOKEN_TTL_SECONDS + 2 * CLOCK_SKEW_SECONDS) * 1_000,
  });
  const tokens = createAccessTokenService({
    keys,
    issuer: deps.issuer,
    credentialState: createPrismaCredentialStateReader(deps.prisma),
  });
  const issuance = createTokenIssuanceService({
    tokens,
    logins: deps.logins,
    getTenant: deps.getTenant,
    audit: deps.audit,
  });
  return {
    tokens,
    routes: [
      { path: '/.well-known', access: 'public', router: createJwksRouter(tokens) },
      {
        path: '/sso',
        access: 'public',
        router: createTokenRouter({ issuance, limitLogin: deps.limitLogin }),
      },
      { path: '/token-signing-keys', access: 'operator', router: createTokenKeyRouter(tokens) },
    ],
  };
}

/**
 * The variables that tell a tenant's data-plane host where the platform's keys are: the
 * tokens' issuer, and the JWKS at the address the platform listens on (loopback when it
 * listens on every interface), never through a public URL the host may not reach.
 */
export function dataPlaneHostTokenEnvironment(
  issuer: string,
  listening: { host: string; port: number },
): Record<string, string> {
  const everyInterface = ['', '0.0.0.0', '::'].includes(listening.host);
  const address = everyInterface ? '127.0.0.1' : listening.host;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    CITADEL_TOKEN_ISSUER: issuer,
    CITADEL_TOKEN_JWKS_URL: `http://${host}:${String(listening.port)}/.well-known/jwks.json`,
  };
}
