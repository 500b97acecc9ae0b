/** Business errors of the accounts module; account-problem.ts maps each code exactly once. */
export type AccountErrorCode =
  | 'weak-password'
  | 'invalid-organization-slug'
  | 'email-taken'
  | 'organization-slug-taken'
  | 'token-invalid'
  | 'token-expired'
  | 'invalid-credentials'
  | 'account-disabled'
  | 'email-not-verified'
  | 'current-password-incorrect'
  | 'session-required'
  | 'csrf';

/** An account failure with a stable code and details for the problem document. */
export class AccountError extends Error {
  readonly code: AccountErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: AccountErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AccountError';
    this.code = code;
    this.details = details;
  }
}
