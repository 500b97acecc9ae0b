import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { CSRF_HEADER } from './console-session.ts';

/**
 * Cross-site request forgery defences for cookie-authenticated requests (OWASP CSRF
 * Prevention Cheat Sheet), two of them:
 *
 * 1. A synchronizer token: each session has a random CSRF token, handed to the console by
 *    the login and session endpoints; a mutation must echo it in `x-csrf-token`. Another
 *    site can make the browser send the cookie, but cannot read the token.
 * 2. Origin verification: when the browser sends `Origin`, it must be the platform's own
 *    origin (that of CITADEL_PUBLIC_URL, or of the Host header when none is configured).
 *
 * SameSite=Lax on the cookie and JSON-only bodies (a cross-site form cannot send
 * `application/json` without a CORS preflight the platform never grants) come on top.
 */

/** The origin requests must come from: the public URL's, or the one the request was sent to. */
export function expectedOrigin(publicUrl: string | undefined, request: Request): string {
  if (publicUrl !== undefined) return new URL(publicUrl).origin;
  return `${request.protocol}://${request.get('host') ?? ''}`;
}

/**
 * True when the request has no `Origin` header (same-origin GETs, non-browser clients) or
 * one equal to the expected origin. `Origin: null` (sandboxed frames, some redirects) is
 * refused: it names no origin that could be trusted.
 */
export function originAllowed(request: Request, publicUrl: string | undefined): boolean {
  const origin = request.get('origin');
  if (origin === undefined) return true;
  return origin.toLowerCase() === expectedOrigin(publicUrl, request).toLowerCase();
}

/** True when the request's `x-csrf-token` equals `csrfToken` (constant-time compare). */
export function csrfTokenMatches(request: Request, csrfToken: string): boolean {
  const given = request.get(CSRF_HEADER);
  if (given === undefined) return false;
  const actual = Buffer.from(given, 'utf8');
  const expected = Buffer.from(csrfToken, 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
