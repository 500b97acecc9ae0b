/** Why a tenant's manifests cannot be rendered. */
export type TenantTemplateErrorCode =
  | 'invalid-slug'
  | 'invalid-uid'
  | 'plan-mismatch'
  | 'invalid-image'
  | 'invalid-parameter'
  | 'invalid-data-keys';

/** Thrown by the templates when their input cannot describe a valid data plane. */
export class TenantTemplateError extends Error {
  readonly code: TenantTemplateErrorCode;

  constructor(code: TenantTemplateErrorCode, message: string) {
    super(message);
    this.name = 'TenantTemplateError';
    this.code = code;
  }
}
