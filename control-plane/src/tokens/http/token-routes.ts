import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { slugParamSchema } from '../../http/api-schemas.ts';
import { jsonBody } from '../../http/json-body.ts';
import { problem, validationProblem } from '../../http/problem.ts';
import type { SsoLoginService } from '../../sso/domain/sso-login.service.ts';
import { requireTenant } from '../../sso/domain/sso-connection.service.ts';
import { readCookie, SESSION_COOKIE } from '../../sso/http/sso-cookies.ts';
import type { LoginLimiter } from '../../sso/http/sso-login-routes.ts';
import { mapSsoErrors } from '../../sso/http/sso-problem.ts';
import type { TenantResource } from '@citadel/contracts';
import { TOKEN_AUDIENCES, type AccessTokenService } from '../domain/access-token.service.ts';

/** Seconds a JWKS may be cached: a rotated key is published long before it signs alone. */
const JWKS_MAX_AGE_SECONDS = 300;

const tokenRequestSchema = z.object({ audience: z.enum(TOKEN_AUDIENCES) }).strict();

export interface TokenRoutesDeps {
  tokens: AccessTokenService;
  logins: SsoLoginService;
  getTenant: (slug: string) => Promise<TenantResource | undefined>;
  /** The platform's login rate limit, per tenant. */
  limitLogin?: LoginLimiter | undefined;
}

/** `GET /.well-known/jwks.json`: public, cacheable, no secret. */
export function createJwksRouter(tokens: AccessTokenService): Router {
  const router = Router();
  router.get('/jwks.json', async (_request, response) => {
    response.set('Cache-Control', `public, max-age=${String(JWKS_MAX_AGE_SECONDS)}`);
    response.json(await tokens.jwks());
  });
  return router;
}

/**
 * Cookie-authenticated POSTs must come from our own pages: a cross-site form can send
 * neither a custom header nor a JSON content type without a CORS preflight we never
 * grant, and a browser's Origin, when sent, must be ours.
 */
const requireSameOrigin: RequestHandler = (request, _response, next) => {
  const origin = request.get('origin');
  const ownOrigin = `${request.protocol}://${request.get('host') ?? ''}`;
  const scripted =
    request.get('x-requested-with') !== undefined || request.is('application/json') !== false;
  if ((origin !== undefined && origin !== ownOrigin) || !scripted) {
    next(
      problem({
        status: 403,
        slug: 'tokens/cross-site-request',
        title: 'Cross-site request refused',
        detail: 'Send the request from the platform origin, as JSON or with X-Requested-With.',
      }),
    );
    return;
  }
  next();
};

/** `POST /sso/t/:slug/token` → a five-minute access token for one data-plane service. */
export function createTokenRouter(deps: TokenRoutesDeps): Router {
  const router = Router();
  const limit = deps.limitLogin?.({
    tenantOf: (request) => request.params.slug as string | undefined,
  });
  const limited: RequestHandler[] = limit ? [limit] : [];
  router.post(
    '/t/:slug/token',
    ...limited,
    requireSameOrigin,
    ...jsonBody(),
    async (request, response) => {
      response.set('Cache-Control', 'no-store');
      const params = slugParamSchema.safeParse({ slug: request.params.slug });
      if (!params.success) throw validationProblem(params.error, 'path');
      const body = tokenRequestSchema.safeParse(request.body ?? {});
      if (!body.success) throw validationProblem(body.error, 'body');
      const slug = params.data.slug;
      const user = await deps.logins.currentUser(slug, readCookie(request, SESSION_COOKIE));
      const tenant = await requireTenant(deps.getTenant, slug);
      const issued = await deps.tokens.issue(
        { tenantId: tenant.metadata.uid, tenantSlug: slug, userId: user.id, roles: user.roles },
        body.data.audience,
      );
      response.json({
        access_token: issued.accessToken,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
      });
    },
  );
  router.use(mapSsoErrors);
  return router;
}

/** `POST /api/v1/token-signing-keys/rotate` (operator): a new signing key now. */
export function createTokenKeyRouter(tokens: AccessTokenService): Router {
  const router = Router();
  router.post('/rotate', async (_request, response) => {
    response.status(201).json(await tokens.rotate());
  });
  return router;
}
