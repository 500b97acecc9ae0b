import type { CookieOptions, Request, Response } from 'express';

/** The tenant user's session: a 256-bit secret, stored server-side as its digest. */
export const SESSION_COOKIE = 'citadel_session';
/** Binds a login in flight to the browser that started it; only the callback sees it. */
export const LOGIN_COOKIE = 'citadel_sso_login';
export const CALLBACK_PATH = '/sso/callback';

/** The value of cookie `name`, from the raw header (no cookie-parser needed for two cookies). */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) {
      const value = part.slice(index + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** httpOnly, SameSite=Lax (the IdP's redirect back is a top-level GET), Secure over https. */
function baseOptions(request: Request, path: string): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure: request.secure, path };
}

export function setLoginCookie(
  request: Request,
  response: Response,
  value: string,
  expiresAt: Date,
): void {
  response.cookie(LOGIN_COOKIE, value, {
    ...baseOptions(request, CALLBACK_PATH),
    expires: expiresAt,
  });
}

export function clearLoginCookie(request: Request, response: Response): void {
  response.clearCookie(LOGIN_COOKIE, baseOptions(request, CALLBACK_PATH));
}

export function setSessionCookie(
  request: Request,
  response: Response,
  value: string,
  expiresAt: Date,
): void {
  response.cookie(SESSION_COOKIE, value, { ...baseOptions(request, '/'), expires: expiresAt });
}

export function clearSessionCookie(request: Request, response: Response): void {
  response.clearCookie(SESSION_COOKIE, baseOptions(request, '/'));
}
