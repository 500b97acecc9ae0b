import type { TenantResource } from '@citadel/contracts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PlatformModuleRoutes } from '../http/platform-app.ts';
import type { Logger } from '../logger.ts';
import { createOidcRelyingParty, type OidcRelyingParty } from './adapters/oidc-relying-party.ts';
import { createPrismaSsoRepository } from './adapters/prisma-sso-repository.ts';
import { createSsoConnectionService } from './domain/sso-connection.service.ts';
import { createSsoLoginService, type SsoLoginService } from './domain/sso-login.service.ts';
import type { SsoSecretCipher } from './domain/sso-secrets.ts';
import { createSsoConnectionRouter } from './http/sso-connection-routes.ts';
import { createSsoLoginRouter, type LoginLimiter } from './http/sso-login-routes.ts';

export interface SsoModuleDeps {
  prisma: PrismaClient;
  logger: Logger;
  getTenant: (slug: string) => Promise<TenantResource | undefined>;
  /** The tenants' data keys: client secrets are encrypted with them. */
  dataKeys: SsoSecretCipher;
  audit: AuditRecorder;
  /** The platform's public URL (CITADEL_PUBLIC_URL); the redirect URI is `<it>/sso/callback`. */
  publicUrl: string | undefined;
  relyingParty?: OidcRelyingParty;
  /** The platform's login rate limit, put before the login and callback routes. */
  limitLogin?: LoginLimiter | undefined;
}

/** The SSO module: the login service (sessions) other modules may read, and its routes. */
export interface SsoModule {
  logins: SsoLoginService;
  routes: PlatformModuleRoutes[];
}

/** Wires per-tenant OpenID Connect SSO: repository, relying party, services, routers. */
export function createSsoModule(deps: SsoModuleDeps): SsoModule {
  const repository = createPrismaSsoRepository(deps.prisma);
  const relyingParty = deps.relyingParty ?? createOidcRelyingParty();
  const shared = {
    repository,
    relyingParty,
    cipher: deps.dataKeys,
    audit: deps.audit,
    getTenant: deps.getTenant,
  };
  const logins = createSsoLoginService({
    ...shared,
    logger: deps.logger.child({ component: 'sso' }),
  });
  return {
    logins,
    routes: [
      {
        path: '/tenants/:slug/sso-connections',
        access: 'operator',
        router: createSsoConnectionRouter(createSsoConnectionService(shared)),
      },
      {
        path: '/sso',
        access: 'public',
        router: createSsoLoginRouter(logins, {
          publicUrl: deps.publicUrl,
          limitLogin: deps.limitLogin,
        }),
      },
    ],
  };
}
