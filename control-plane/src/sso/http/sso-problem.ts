import type { ErrorRequestHandler } from 'express';
import { problem, type HttpProblem } from '../../http/problem.ts';
import { SsoError, type SsoErrorCode } from '../domain/sso-error.ts';

const SSO_ERROR_STATUS: Record<SsoErrorCode, { status: number; title: string }> = {
  'tenant-not-found': { status: 404, title: 'Tenant not found' },
  'tenant-not-ready': { status: 409, title: 'Tenant not ready' },
  'connection-not-found': { status: 404, title: 'SSO connection not found' },
  'connection-name-taken': { status: 409, title: 'SSO connection name already used' },
  'connection-disabled': { status: 403, title: 'SSO connection disabled' },
  'connection-modified': { status: 409, title: 'SSO connection changed concurrently' },
  'version-mismatch': { status: 412, title: 'SSO connection version does not match' },
  'issuer-discovery-failed': { status: 400, title: 'OpenID Connect discovery failed' },
  'invalid-return-to': { status: 400, title: 'Invalid returnTo' },
  'login-state-invalid': { status: 400, title: 'Invalid login state' },
  'login-state-replayed': { status: 400, title: 'Login state already used' },
  'login-state-expired': { status: 400, title: 'Login state expired' },
  'login-browser-mismatch': { status: 400, title: 'Login started in another browser' },
  'identity-provider-error': { status: 401, title: 'Identity provider login failed' },
  'email-missing': { status: 401, title: 'No verified email' },
  'email-domain-not-allowed': { status: 403, title: 'Email domain not allowed' },
  'user-inactive': { status: 403, title: 'User deactivated' },
  'session-required': { status: 401, title: 'Session required' },
};

/** The one mapping of SSO errors to RFC 7807 problems. */
export function ssoProblem(error: SsoError): HttpProblem {
  const { status, title } = SSO_ERROR_STATUS[error.code];
  return problem({
    status,
    slug: `sso/${error.code}`,
    title,
    detail: error.message,
    extensions: error.details,
  });
}

/** Router-level error handler: SSO errors become problems, the rest goes on untouched. */
export const mapSsoErrors: ErrorRequestHandler = (error: unknown, _request, _response, next) => {
  next(error instanceof SsoError ? ssoProblem(error) : error);
};
