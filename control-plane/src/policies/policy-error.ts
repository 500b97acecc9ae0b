/** Business errors of the policy module; policy-routes.ts maps each code exactly once. */
export type PolicyErrorCode =
  'policy-not-found' | 'policy-name-taken' | 'policy-invalid' | 'policies-unavailable';

/** A policy-module failure with a stable code and details for the problem document. */
export class PolicyError extends Error {
  readonly code: PolicyErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: PolicyErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'PolicyError';
    this.code = code;
    this.details = details;
  }
}
