/** Business errors of the licensing module; the transport maps each code once. */
export type LicenseErrorCode = 'invalid_license' | 'invalid_policy';

/** A licence expression or licence policy that cannot be used, with what is wrong. */
export class LicenseError extends Error {
  readonly code: LicenseErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: LicenseErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'LicenseError';
    this.code = code;
    this.details = details;
  }
}
