/** RFC 7807 problem details, as every REST error of the platform is written. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Field-level validation errors, when the request body was invalid. */
  errors?: Array<{ path: string; message: string }>;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem type URIs; stable identifiers that clients can switch on. */
export const PROBLEM_TYPE_BASE = 'https://citadel.azora.dev/problems/';
