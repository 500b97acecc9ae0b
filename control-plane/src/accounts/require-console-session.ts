import type { RequestHandler, Response } from 'express';
import { AccountError } from './account-error.ts';
import { accountProblem } from './account-problem.ts';
import type { ConsoleSession, ConsoleSessions } from './console-session.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own extension point
  namespace Express {
    interface Locals {
      /** Set by `requireConsoleSession`: the signed-in console account's session. */
      consoleSession?: ConsoleSession;
    }
  }
}

export interface RequireConsoleSessionOptions {
  /**
   * Check CSRF (token and Origin): true for every state-changing route. GETs must not
   * change anything and can go without.
   */
  csrf: boolean;
}

/** Builds the middleware from the sessions it resolves with (the accounts module's). */
export type RequireConsoleSession = (options: RequireConsoleSessionOptions) => RequestHandler;

/**
 * Express middleware for routes only a signed-in console account may use: 401 without a
 * live session, 403 (`…/problems/csrf`) when `csrf` is asked for and the request fails the
 * check; otherwise `res.locals.consoleSession` is set and the route runs.
 */
export function requireConsoleSessionWith(sessions: ConsoleSessions): RequireConsoleSession {
  return (options) => async (request, response, next) => {
    const session = await sessions.resolve(request);
    if (!session) {
      next(accountProblem(new AccountError('session-required', 'Sign in to the console first.')));
      return;
    }
    if (options.csrf && !sessions.checkCsrf(request, session)) {
      next(
        accountProblem(
          new AccountError(
            'csrf',
            'Send the x-csrf-token header with the session token, from the platform origin.',
          ),
        ),
      );
      return;
    }
    response.locals.consoleSession = session;
    next();
  };
}

/** The session `requireConsoleSession` put on the response; throws when it did not run. */
export function consoleSessionOf(response: Response): ConsoleSession {
  const session = response.locals.consoleSession;
  if (!session) throw new Error('requireConsoleSession must run before this handler');
  return session;
}
