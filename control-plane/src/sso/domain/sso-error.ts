/** Business errors of the SSO module; http/sso-problem.ts maps each code exactly once. */
export type SsoErrorCode =
  | 'tenant-not-found'
  | 'tenant-not-ready'
  | 'connection-not-found'
  | 'connection-name-taken'
  | 'connection-disabled'
  | 'connection-modified'
  | 'version-mismatch'
  | 'issuer-discovery-failed'
  | 'invalid-return-to'
  | 'login-state-invalid'
  | 'login-state-replayed'
  | 'login-state-expired'
  | 'login-browser-mismatch'
  | 'identity-provider-error'
  | 'email-missing'
  | 'email-domain-not-allowed'
  | 'user-inactive'
  | 'session-required';

/** An SSO failure with a stable code and details for the problem document. */
export class SsoError extends Error {
  readonly code: SsoErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: SsoErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'SsoError';
    this.code = code;
    this.details = details;
  }
}
