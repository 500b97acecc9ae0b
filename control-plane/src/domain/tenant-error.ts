/** Business errors of the tenant module; transports map each code exactly once. */
export type TenantErrorCode =
  | 'invalid-slug'
  | 'unknown-plan'
  | 'tenant-exists'
  | 'tenant-not-found'
  | 'tenant-deleting'
  | 'invalid-cursor';

export class TenantError extends Error {
  readonly code: TenantErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: TenantErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'TenantError';
    this.code = code;
    this.details = details;
  }
}
