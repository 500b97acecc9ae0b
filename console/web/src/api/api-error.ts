/** A field the server refused, by its path in the request (`organization.slug`). */
export interface FieldError {
  path: string;
  message: string;
}

export interface ApiErrorInit {
  status: number;
  /**
   * What went wrong, stable enough to switch on: the problem type's last segment for REST
   * (`invalid-credentials`, `email-not-verified`…), `extensions.code` for GraphQL
   * (`FORBIDDEN`, `CONFLICT`…), `network` when the platform could not be reached.
   */
  code: string;
  message: string;
  /** GraphQL's `extensions.reason`: the domain's own code (`last-owner`, `tenant-exists`…). */
  reason?: string | undefined;
  fieldErrors?: FieldError[] | undefined;
  /** Seconds to wait, from `Retry-After`, when the platform limits the rate. */
  retryAfterSeconds?: number | undefined;
}

/** Every failure the console's API clients throw: a REST problem or a GraphQL error. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly reason: string | undefined;
  readonly fieldErrors: FieldError[];
  readonly retryAfterSeconds: number | undefined;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.reason = init.reason;
    this.fieldErrors = init.fieldErrors ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** True when the caller has no (or no longer a) session. */
  get unauthenticated(): boolean {
    return this.code === 'UNAUTHENTICATED' || this.code === 'session-required';
  }
}

/** A message for any thrown value, worded for the person in front of the console. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? error.message : 'Something went wrong.';
  }
  switch (error.code) {
    case 'FORBIDDEN':
      return `Not allowed: ${error.message}`;
    case 'CSRF':
    case 'csrf':
      return 'Your session could not be confirmed. Reload the page and try again.';
    case 'rate-limited':
      return error.retryAfterSeconds === undefined
        ? 'Too many attempts. Wait a moment and try again.'
        : `Too many attempts. Try again in ${error.retryAfterSeconds} s.`;
    case 'network':
      return 'The platform cannot be reached. Check your connection and try again.';
    default:
      return error.message;
  }
}
