import type { Request } from 'express';

/** The cookie that carries a console session's secret (httpOnly, SameSite=Lax, Secure on https). */
export const CONSOLE_SESSION_COOKIE = 'citadel_console';
/** The header a cookie-authenticated mutation must carry, echoing the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

/** A signed-in console account, as the accounts module resolves it from the session cookie. */
export interface ConsoleSession {
  /** Stable id of the session (the digest of its secret); never the secret itself. */
  sessionId: string;
  accountId: string;
  email: string;
  displayName: string;
  /** The synchronizer token that cookie-authenticated mutations must echo in CSRF_HEADER. */
  csrfToken: string;
  expiresAt: Date;
}

/**
 * How other modules (organisations, GraphQL) learn who is calling. `resolve` reads the cookie
 * and returns the live session or undefined; it does not check CSRF. `checkCsrf` answers
 * whether a request carries the session's CSRF token (constant-time compare).
 */
export interface ConsoleSessions {
  resolve(req: Request): Promise<ConsoleSession | undefined>;
  checkCsrf(req: Request, session: ConsoleSession): boolean;
}
