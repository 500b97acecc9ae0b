import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import { digestSecret } from '../domain/secret-digest.ts';
import { jsonBody } from '../http/json-body.ts';
import { validationProblem } from '../http/problem.ts';
import type { LoginLimitOptions } from '../http/rate-limits.ts';
import { toTenantView } from '../http/tenant-view.ts';
import { AccountError } from './account-error.ts';
import { mapAccountErrors } from './account-problem.ts';
import { emailKeyOf, type AccountRecord } from './account-repository.ts';
import {
  changePasswordRequestSchema,
  confirmPasswordResetRequestSchema,
  emailRequestSchema,
  loginRequestSchema,
  signUpRequestSchema,
  tokenRequestSchema,
} from './account-schemas.ts';
import type { AccountService } from './account.service.ts';
import { clearConsoleCookie, readConsoleCookie, setConsoleCookie } from './console-cookie.ts';
import type { ConsoleSession } from './console-session.ts';
import type { ConsoleSessionService } from './console-session.service.ts';
import { originAllowed } from './csrf.ts';
import { consoleSessionOf, type RequireConsoleSession } from './require-console-session.ts';

/** Builds a rate-limit middleware (the platform's `rateLimits.limitLogin`). */
export type LoginLimiter = (options: LoginLimitOptions) => RequestHandler;

export interface AccountRoutesDeps {
  accounts: AccountService;
  sessions: ConsoleSessionService;
  requireConsoleSession: RequireConsoleSession;
  /** CITADEL_PUBLIC_URL: the origin requests must come from, and whether cookies are Secure. */
  publicUrl: string | undefined;
  /** The sessions' absolute lifetime: the cookie's Max-Age. */
  sessionMaxAgeMs: number;
  limitLogin?: LoginLimiter | undefined;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error);
  return result.data;
}

export function toAccountView(
  account: Pick<AccountRecord, 'id' | 'email' | 'displayName'> & {
    emailVerifiedAt?: Date | undefined;
  },
) {
  return {
    id: account.id,
    email: account.email,
    displayName: account.displayName,
    emailVerified: account.emailVerifiedAt !== undefined,
  };
}

function toSessionView(session: ConsoleSession) {
  return {
    account: {
      id: session.accountId,
      email: session.email,
      displayName: session.displayName,
      // Only verified accounts can sign in.
      emailVerified: true,
    },
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt.toISOString(),
  };
}

/** The opaque per-account rate-limit key: the digest of the e-mail key, never the address. */
function accountKeyOf(request: Request): string | undefined {
  const body = request.body as { email?: unknown } | undefined;
  return typeof body?.email === 'string' ? digestSecret(emailKeyOf(body.email)) : undefined;
}

const passThrough: RequestHandler = (_request, _response, next) => {
  next();
};

/**
 * Refuses a state-changing request whose `Origin` is not the platform's (csrf.ts), also
 * for sign-up and login: no other site can sign a visitor in to an account of its choosing.
 */
function sameOriginMutations(publicUrl: string | undefined): RequestHandler {
  return (request, _response, next) => {
    if (STATE_CHANGING.has(request.method) && !originAllowed(request, publicUrl)) {
      next(new AccountError('csrf', 'The request comes from another origin.'));
      return;
    }
    next();
  };
}

/**
 * The console's account API, public and mounted at /auth. Every answer is `no-store`;
 * failures are RFC 7807 problems whose type names the error code.
 *
 * - `POST /auth/signup` → 201 account, organisation and first tenant; mails a verification link
 * - `POST /auth/verify-email` `{token}`; `POST /auth/verify-email/resend` `{email}` → 202
 * - `POST /auth/login` → session cookie and CSRF token; `GET /auth/session`
 * - `POST /auth/logout`, `/auth/logout-everywhere`, `/auth/password` (session + CSRF)
 * - `POST /auth/password-reset` `{email}` → 202; `/auth/password-reset/confirm` `{token, password}`
 */
export function createAccountRouter(deps: AccountRoutesDeps): Router {
  const router = Router();
  const { accounts, sessions, requireConsoleSession } = deps;
  const cookies = { publicUrl: deps.publicUrl };
  const limit = deps.limitLogin ?? (() => passThrough);
  const perIp = limit({ tenantOf: () => undefined });
  const perIpAndAccount = limit({ tenantOf: () => undefined, accountOf: accountKeyOf });
  const signedIn = requireConsoleSession({ csrf: false });
  const signedInMutation = requireConsoleSession({ csrf: true });
  const origin = (request: Request) => ({
    ip: request.ip,
    userAgent: request.get('user-agent'),
  });

  router.use((_request, response, next) => {
    response.set('Cache-Control', 'no-store');
    next();
  });
  router.use(sameOriginMutations(deps.publicUrl));

  router.post('/signup', ...jsonBody(), perIp, async (request, response) => {
    const input = parse(signUpRequestSchema, request.body);
    const signedUp = await accounts.signUp(input, origin(request));
    response.status(201).json({
      account: toAccountView(signedUp.account),
      organization: signedUp.organization,
      tenant: toTenantView(signedUp.tenant),
    });
  });

  router.post('/verify-email', ...jsonBody(), perIp, async (request, response) => {
    await accounts.verifyEmail(parse(tokenRequestSchema, request.body).token);
    response.json({ emailVerified: true });
  });

  router.post('/verify-email/resend', ...jsonBody(), perIp, (request, response) => {
    accounts.resendVerification(parse(emailRequestSchema, request.body).email);
    response.status(202).json({ accepted: true });
  });

  router.post('/login', ...jsonBody(), perIpAndAccount, async (request, response) => {
    const credentials = parse(loginRequestSchema, request.body);
    const { account, started } = await accounts.logIn(credentials, {
      ...origin(request),
      previousSecret: readConsoleCookie(request),
    });
    setConsoleCookie(request, response, started.secret, {
      ...cookies,
      maxAgeMs: deps.sessionMaxAgeMs,
    });
    response.json({ ...toSessionView(started.session), account: toAccountView(account) });
  });

  router.get('/session', signedIn, (_request, response) => {
    response.json(toSessionView(consoleSessionOf(response)));
  });

  router.post('/logout', signedInMutation, async (request, response) => {
    await sessions.end(consoleSessionOf(response));
    signedOut(request, response);
  });

  router.post('/logout-everywhere', signedInMutation, async (request, response) => {
    await sessions.endAll(consoleSessionOf(response).accountId);
    signedOut(request, response);
  });

  router.post('/password', ...jsonBody(), perIp, signedInMutation, async (request, response) => {
    await accounts.changePassword(
      consoleSessionOf(response),
      parse(changePasswordRequestSchema, request.body),
    );
    response.status(204).end();
  });

  router.post('/password-reset', ...jsonBody(), perIp, (request, response) => {
    accounts.requestPasswordReset(parse(emailRequestSchema, request.body).email);
    response.status(202).json({ accepted: true });
  });

  router.post('/password-reset/confirm', ...jsonBody(), perIp, async (request, response) => {
    await accounts.confirmPasswordReset(parse(confirmPasswordResetRequestSchema, request.body));
    response.status(204).end();
  });

  function signedOut(request: Request, response: Response): void {
    clearConsoleCookie(request, response, cookies);
    response.status(204).end();
  }

  router.use(mapAccountErrors);
  return router;
}
