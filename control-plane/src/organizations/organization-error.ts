/** Business errors of organisations and memberships; the GraphQL layer maps each code once. */
export type OrganizationErrorCode =
  | 'invalid-input'
  | 'organization-not-found'
  | 'organization-exists'
  | 'member-not-found'
  | 'already-member'
  | 'last-owner'
  | 'invitation-invalid'
  | 'invitation-email-mismatch'
  | 'not-an-account';

export class OrganizationError extends Error {
  readonly code: OrganizationErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: OrganizationErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'OrganizationError';
    this.code = code;
    this.details = details;
  }
}
