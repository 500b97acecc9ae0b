import type { CookieOptions, Request, Response } from 'express';
import { readCookie } from '../sso/http/sso-cookies.ts';
import { CONSOLE_SESSION_COOKIE } from './console-session.ts';

/**
 * The console session cookie: httpOnly (scripts never see the secret), SameSite=Lax (sent
 * on top-level navigation to the console, not on cross-site subrequests), path `/`, and
 * Secure whenever the platform is reached over https — by its public URL or by the request.
 */
export interface ConsoleCookieOptions {
  /** CITADEL_PUBLIC_URL; an https URL makes the cookie Secure even behind a plain-http hop. */
  publicUrl: string | undefined;
}

function baseOptions(request: Request, options: ConsoleCookieOptions): CookieOptions {
  const httpsPublicUrl = options.publicUrl?.startsWith('https:') ?? false;
  return { httpOnly: true, sameSite: 'lax', secure: httpsPublicUrl || request.secure, path: '/' };
}

/** The secret the browser holds, if any. */
export function readConsoleCookie(request: Request): string | undefined {
  return readCookie(request, CONSOLE_SESSION_COOKIE);
}

/** Sets the cookie with `Max-Age` = the session's absolute lifetime. */
export function setConsoleCookie(
  request: Request,
  response: Response,
  secret: string,
  options: ConsoleCookieOptions & { maxAgeMs: number },
): void {
  response.cookie(CONSOLE_SESSION_COOKIE, secret, {
    ...baseOptions(request, options),
    maxAge: options.maxAgeMs,
  });
}

export function clearConsoleCookie(
  request: Request,
  response: Response,
  options: ConsoleCookieOptions,
): void {
  response.clearCookie(CONSOLE_SESSION_COOKIE, baseOptions(request, options));
}
