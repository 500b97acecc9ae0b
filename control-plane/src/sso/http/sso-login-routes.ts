import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { slugParamSchema } from '../../http/api-schemas.ts';
import { validationProblem } from '../../http/problem.ts';
import type { SsoLoginService } from '../domain/sso-login.service.ts';
import {
  CALLBACK_PATH,
  LOGIN_COOKIE,
  SESSION_COOKIE,
  clearLoginCookie,
  clearSessionCookie,
  readCookie,
  setLoginCookie,
  setSessionCookie,
} from './sso-cookies.ts';
import { mapSsoErrors } from './sso-problem.ts';

const loginQuerySchema = z.object({
  connection: z.string().min(1).max(64),
  returnTo: z.string().max(2_048).optional(),
});

/** Builds a rate-limit middleware for login requests of the tenant `tenantOf` names. */
export type LoginLimiter = (options: {
  tenantOf(request: Request): string | undefined;
}) => RequestHandler;

export interface SsoLoginRoutesOptions {
  /** The platform's public URL; when unset the request's own origin is used (local default). */
  publicUrl: string | undefined;
  limitLogin?: LoginLimiter | undefined;
}

const passThrough: RequestHandler = (_request, _response, next) => {
  next();
};

function slugOf(request: Request): string {
  const result = slugParamSchema.safeParse({ slug: request.params.slug });
  if (!result.success) throw validationProblem(result.error, 'path');
  return result.data.slug;
}

/**
 * The browser login, public and mounted at /sso: the gateway owns every `/t/{slug}/…`, so
 * the tenant comes after the prefix. One fixed redirect URI, `<public URL>/sso/callback`,
 * serves every tenant: the state names the login.
 *
 * - `GET  /sso/t/:slug/login?connection=&returnTo=` → 302 to the IdP
 * - `GET  /sso/callback` → 302 to returnTo with the session cookie
 * - `GET  /sso/t/:slug/session` → the current user, or 401
 * - `POST /sso/t/:slug/logout` → ends the session
 */
export function createSsoLoginRouter(logins: SsoLoginService, options: SsoLoginRoutesOptions) {
  const router = Router();
  const redirectUri = (request: Request) =>
    `${options.publicUrl?.replace(/\/$/, '') ?? `${request.protocol}://${request.get('host') ?? ''}`}${CALLBACK_PATH}`;

  router.use((_request, response, next) => {
    response.set('Cache-Control', 'no-store');
    next();
  });

  const limit = options.limitLogin ?? (() => passThrough);
  const limitByTenant = limit({ tenantOf: (request) => request.params.slug as string | undefined });
  // The callback names its tenant only through its state: looked up first (one indexed
  // read), so the callback counts against the same per-IP and per-tenant limits as the
  // login. An unknown state counts against the IP alone.
  const callbackTenants = new WeakMap<Request, string>();
  const findCallbackTenant: RequestHandler = async (request, _response, next) => {
    const { state } = request.query;
    const slug = await logins.tenantOfLoginState(typeof state === 'string' ? state : undefined);
    if (slug !== undefined) callbackTenants.set(request, slug);
    next();
  };
  const limitCallback = [
    ...(options.limitLogin === undefined ? [] : [findCallbackTenant]),
    limit({ tenantOf: (request) => callbackTenants.get(request) }),
  ];

  router.get('/t/:slug/login', limitByTenant, async (request, response) => {
    const query = loginQuerySchema.safeParse(request.query);
    if (!query.success) throw validationProblem(query.error, 'query');
    const started = await logins.startLogin(slugOf(request), {
      connectionId: query.data.connection,
      returnTo: query.data.returnTo,
      redirectUri: redirectUri(request),
      ip: request.ip,
    });
    setLoginCookie(request, response, started.browserBinding, started.expiresAt);
    response.redirect(302, started.authorizationUrl);
  });

  router.get('/callback', ...limitCallback, async (request, response) => {
    const completed = await logins.completeLogin({
      query: new URL(request.originalUrl, 'http://callback.invalid').searchParams,
      browserBinding: readCookie(request, LOGIN_COOKIE),
      redirectUri: redirectUri(request),
      ip: request.ip,
    });
    clearLoginCookie(request, response);
    setSessionCookie(request, response, completed.sessionToken, completed.expiresAt);
    response.redirect(302, completed.returnTo);
  });

  router.get('/t/:slug/session', async (request, response) => {
    const user = await logins.currentUser(slugOf(request), readCookie(request, SESSION_COOKIE));
    response.json(user);
  });

  router.post('/t/:slug/logout', async (request, response) => {
    const slug = slugOf(request);
    const result = await logins.logout(slug, readCookie(request, SESSION_COOKIE), request.ip);
    clearSessionCookie(request, response);
    response.json({ loggedOut: true, endSessionUrl: result.endSessionUrl });
  });

  router.use(mapSsoErrors);
  return router;
}
