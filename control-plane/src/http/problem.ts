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

/** The parts of an RFC 7807 problem; `slug` is appended to the problem type base URL. */
export interface ProblemInit {
  status: number;
  slug: string;
  title: string;
  detail?: string;
  /** Extension members, written beside the standard ones. */
  extensions?: Record<string, unknown>;
}

export function problem({
  status,
  slug,
  title,
  detail,
  extensions = {},
}: ProblemInit): HttpProblem {
  return new HttpProblem({
    type: `${PROBLEM_TYPE_BASE}${slug}`,
    title,
    status,
    ...(detail === undefined ? {} : { detail }),
    ...extensions,
  });
}

export function validationProblem(error: z.ZodError, where = 'request body'): HttpProblem {
  return problem({
    status: 400,
    slug: 'validation-error',
    title: 'Invalid request',
    detail: `The ${where} is not valid.`,
    extensions: {
      errors: error.issues.map((issue) => ({
        path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
        message: issue.message,
      })),
    },
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
  return problem({
    status,
    slug: error.code,
    title,
    detail: error.message,
    extensions: error.details,
  });
}

/** body-parser's errors carry a `type` and a `status`. */
function fromBodyParserError(error: unknown): HttpProblem | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch (error.type) {
    case 'entity.too.large':
      return problem({
        status: 413,
        slug: 'payload-too-large',
        title: 'Payload too large',
        detail: 'The request body exceeds the limit.',
      });
    case 'entity.parse.failed':
      return problem({
        status: 400,
        slug: 'malformed-json',
        title: 'Malformed JSON',
        detail: 'The request body is not valid JSON.',
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problem({
        status: 415,
        slug: 'unsupported-media-type',
        title: 'Unsupported media type',
        detail: 'Send UTF-8 JSON.',
      });
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
    problem({
      status: 500,
      slug: 'internal-error',
      title: 'Internal server error',
      detail: 'The platform failed to handle the request.',
    })
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
export const problemErrorHandler: ErrorRequestHandler = (
  error: unknown,
  request,
  response,
  next,
) => {
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

/** 401 with the `WWW-Authenticate` challenge RFC 6750 asks for. */
export function unauthorizedProblem(detail: string): HttpProblem {
  const base = problem({ status: 401, slug: 'unauthorized', title: 'Unauthorized', detail });
  return new HttpProblem(base.problem, { 'WWW-Authenticate': 'Bearer realm="citadel"' });
}
