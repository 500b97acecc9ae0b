import type { ErrorRequestHandler } from 'express';
import { HttpProblem, problem } from '../http/problem.ts';
import { AccountError, type AccountErrorCode } from './account-error.ts';

const ACCOUNT_ERROR_STATUS: Record<AccountErrorCode, { status: number; title: string }> = {
  'weak-password': { status: 400, title: 'Password does not meet the policy' },
  'invalid-organization-slug': { status: 400, title: 'Invalid organisation slug' },
  'email-taken': { status: 409, title: 'E-mail address already registered' },
  'organization-slug-taken': { status: 409, title: 'Organisation already exists' },
  'token-invalid': { status: 400, title: 'Invalid link' },
  'token-expired': { status: 400, title: 'Link expired' },
  'invalid-credentials': { status: 401, title: 'Invalid credentials' },
  'account-disabled': { status: 401, title: 'Account disabled' },
  'email-not-verified': { status: 403, title: 'E-mail address not verified' },
  'current-password-incorrect': { status: 403, title: 'Current password is wrong' },
  'session-required': { status: 401, title: 'Sign-in required' },
  csrf: { status: 403, title: 'CSRF check failed' },
};

/**
 * The one mapping of account errors to RFC 7807 problems; the type is the code itself
 * (`…/problems/email-not-verified`, `…/problems/csrf`), so the console can switch on it.
 */
export function accountProblem(error: AccountError): HttpProblem {
  const { status, title } = ACCOUNT_ERROR_STATUS[error.code];
  const base = problem({
    status,
    slug: error.code,
    title,
    detail: error.message,
    extensions: error.details,
  });
  // A 401 names the scheme the client should use (RFC 9110 §11.6.1): the console cookie.
  return status === 401
    ? new HttpProblem(base.problem, { 'WWW-Authenticate': 'Cookie realm="citadel-console"' })
    : base;
}

/** Router-level error handler: account errors become problems, the rest goes on untouched. */
export const mapAccountErrors: ErrorRequestHandler = (
  error: unknown,
  _request,
  _response,
  next,
) => {
  next(error instanceof AccountError ? accountProblem(error) : error);
};
