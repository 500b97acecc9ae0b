import type { ErrorRequestHandler, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, type ProblemDetails } from '@citadel/contracts';
import { z } from 'zod';
import { TenantError, type TenantErrorCode } from '../domain/tenant-error.ts';

/** An error that is already a problem: thrown by transports, written as RFC 7807. */
export class HttpProblem extends Error {
  readonly problem: ProblemDetails;
  readonly headers: Record<string, string>;
  constructor(problem: ProblemDetails, headers: Record<string, string> = {}) {
    super(problem.detail ?? problem.title);
    this.name = 'HttpProblem';
    this.problem = problem;
    this.headers = headers;
  }
}

export function problem(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extensions: Record<string, unknown> = {},
): HttpProblem {
  return new HttpProblem({
    type: `${PROBLEM_TYPE_BASE}${slug}`,
    title,
    status,
    ...(detail === undefined ? {} : { detail }),
    ...extensions,
  });
}

export function validationProblem(error: z.ZodError, where = 'request body'): HttpProblem {
  return problem(400, 'validation-error', 'Invalid request', `The ${where} is not valid.`, {
    errors: error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
      message: issue.message,
    })),
  });
}

const TENANT_ERROR_STATUS: Record<TenantErrorCode, { status: number; title: string }> = {
  'invalid-slug': { status: 400, title: 'Invalid tenant slug' },
  'unknown-plan': { status: 400, title: 'Unknown plan' },
  'invalid-cursor': { status: 400, title: 'Invalid cursor' },
  'tenant-exists': { status: 409, title: 'Tenant already exists' },
  'tenant-deleting': { status: 409, title: 'Tenant is being deleted' },
  'tenant-not-found': { status: 404, title: 'Tenant not found' },
};

function fromTenantError(error: TenantError): HttpProblem {
  const { status, title } = TENANT_ERROR_STATUS[error.code];
  return problem(status, error.code, title, error.message, error.details);
}

/** body-parser's errors carry a `type` and a `status`. */
function fromBodyParserError(error: unknown): HttpProblem | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch (error.type) {
    case 'entity.too.large':
      return problem(413, 'payload-too-large', 'Payload too large', 'The request body exceeds the limit.');
    case 'entity.parse.failed':
      return problem(400, 'malformed-json', 'Malformed JSON', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problem(415, 'unsupported-media-type', 'Unsupported media type', 'Send UTF-8 JSON.');
    default:
      return undefined;
  }
}

export function toHttpProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof TenantError) return fromTenantError(error);
  if (error instanceof z.ZodError) return validationProblem(error);
  return (
    fromBodyParserError(error) ??
    problem(500, 'internal-error', 'Internal server error', 'The platform failed to handle the request.')
  );
}

export function sendProblem(response: Response, httpProblem: HttpProblem): void {
  const body: ProblemDetails = { ...httpProblem.problem, instance: response.req.originalUrl };
  response
    .status(body.status)
    .set(httpProblem.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(body));
}

/** The one place errors become responses. Only 5xx are logged as errors. */
export const problemErrorHandler: ErrorRequestHandler = (error: unknown, request, response, next) => {
  if (response.headersSent) {
    next(error);
    return;
  }
  const httpProblem = toHttpProblem(error);
  if (httpProblem.problem.status >= 500) {
    request.log.error({ err: error }, 'request failed');
  }
  sendProblem(response, httpProblem);
};
