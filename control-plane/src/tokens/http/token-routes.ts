import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { slugParamSchema } from '../../http/api-schemas.ts';
import { jsonBody } from '../../http/json-body.ts';
import { problem, validationProblem } from '../../http/problem.ts';
import { readCookie, SESSION_COOKIE } from '../../sso/http/sso-cookies.ts';
import type { LoginLimiter } from '../../sso/http/sso-login-routes.ts';
import { mapSsoErrors } from '../../sso/http/sso-problem.ts';
import { TOKEN_AUDIENCES, type AccessTokenService } from '../domain/access-token.service.ts';
import type { TokenIssuanceService } from '../domain/token-issuance.service.ts';

/**
 * Seconds a JWKS may be cached. A key stays published until every token it signed has
 * expired; a new key is picked up at once by verifiers that re-fetch on an unknown `kid`
 * (the data-plane hosts do).
 */
const JWKS_MAX_AGE_SECONDS = 300;

const tokenRequestSchema = z.object({ audience: z.enum(TOKEN_AUDIENCES) }).strict();

export interface TokenRoutesDeps {
  issuance: TokenIssuanceService;
  /** The platform's login rate limit, per client IP and per tenant. */
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
      const issued = await deps.issuance.issueForSession({
        slug: params.data.slug,
        sessionToken: readCookie(request, SESSION_COOKIE),
        audience: body.data.audience,
        ip: request.ip,
      });
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
