import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { AccessDeniedError } from '../access/access-control.ts';
import { TenantError, type TenantErrorCode } from '../domain/tenant-error.ts';
import {
  OrganizationError,
  type OrganizationErrorCode,
} from '../organizations/organization-error.ts';

/** The `extensions.code` values clients switch on. */
export type GraphQLErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CSRF'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'BAD_USER_INPUT'
  | 'INTERNAL_SERVER_ERROR';

export function codedError(
  code: GraphQLErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

const ORGANIZATION_CODES: Record<OrganizationErrorCode, GraphQLErrorCode> = {
  'invalid-input': 'BAD_USER_INPUT',
  'organization-not-found': 'NOT_FOUND',
  'organization-exists': 'CONFLICT',
  'member-not-found': 'NOT_FOUND',
  'already-member': 'CONFLICT',
  'last-owner': 'CONFLICT',
  'invitation-invalid': 'BAD_USER_INPUT',
  'invitation-email-mismatch': 'FORBIDDEN',
  'not-an-account': 'FORBIDDEN',
};

const TENANT_CODES: Record<TenantErrorCode, GraphQLErrorCode> = {
  'invalid-slug': 'BAD_USER_INPUT',
  'unknown-plan': 'BAD_USER_INPUT',
  'invalid-cursor': 'BAD_USER_INPUT',
  'tenant-exists': 'CONFLICT',
  'tenant-deleting': 'CONFLICT',
  'tenant-not-found': 'NOT_FOUND',
};

/**
 * graphql ships CommonJS and ES module builds; libraries loading the other one make
 * `instanceof GraphQLError` unreliable, so errors are recognised by shape.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return (
    error instanceof Error &&
    error.name === 'GraphQLError' &&
    'extensions' in error &&
    typeof error.extensions === 'object' &&
    error.extensions !== null
  );
}

/** graphql's own errors (syntax, validation, variable coercion): the caller's mistake. */
function fromGraphqlItself(error: unknown): GraphQLError | undefined {
  if (!isGraphQLError(error)) return undefined;
  const inner = error.originalError;
  const own = inner == null || (isGraphQLError(inner) && typeof inner.extensions.code !== 'string');
  if (!own) return undefined;
  if (typeof error.extensions.code === 'string') return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    // Yoga answers with this status (and does not show it to the client).
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT', http: { status: 400 } },
  });
}

/** A domain error of the control plane as a coded error; undefined for anything else. */
function fromDomainError(original: unknown): GraphQLError | undefined {
  if (original instanceof AccessDeniedError) {
    return codedError('FORBIDDEN', original.message, {
      action: original.action,
      decisionId: original.decision.decisionId,
    });
  }
  if (original instanceof OrganizationError) {
    return codedError(ORGANIZATION_CODES[original.code], original.message, {
      reason: original.code,
      ...original.details,
    });
  }
  if (original instanceof TenantError) {
    return codedError(TENANT_CODES[original.code], original.message, {
      reason: original.code,
      ...original.details,
    });
  }
  if (original instanceof z.ZodError) {
    return codedError('BAD_USER_INPUT', 'Invalid input.', {
      errors: original.issues.map((issue) => ({
        path: issue.path.join('.'),
        message: issue.message,
      })),
    });
  }
  return undefined;
}

/**
 * The one place a resolver's error becomes what the client sees: business errors keep their
 * message and get a code (with `reason` = the domain's own code); anything else is masked as
 * INTERNAL_SERVER_ERROR so no internals leak.
 */
export function toClientError(error: unknown): GraphQLError {
  const fromGraphql = fromGraphqlItself(error);
  if (fromGraphql) return fromGraphql;
  const original = isGraphQLError(error) ? error.originalError : error;
  if (isGraphQLError(original) && typeof original.extensions.code === 'string') return original;
  return (
    fromDomainError(original) ??
    codedError('INTERNAL_SERVER_ERROR', 'The platform failed to handle the request.')
  );
}
