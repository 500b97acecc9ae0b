import { ApiError } from './api-error.ts';
import { reportUnauthenticated, send } from './http-client.ts';

interface GraphqlErrorBody {
  message?: unknown;
  extensions?: { code?: unknown; reason?: unknown };
}

interface GraphqlResponseBody<T> {
  data?: T | null;
  errors?: GraphqlErrorBody[];
}

function toApiError(status: number, error: GraphqlErrorBody | undefined): ApiError {
  const code = typeof error?.extensions?.code === 'string' ? error.extensions.code : 'INTERNAL';
  const reason =
    typeof error?.extensions?.reason === 'string' ? error.extensions.reason : undefined;
  const message =
    typeof error?.message === 'string' ? error.message : `The request failed (${status}).`;
  return new ApiError({ status, code, reason, message });
}

/**
 * Runs one operation against /graphql (the console's API). The first error of the answer is
 * thrown as an ApiError with its `extensions.code`; UNAUTHENTICATED also ends the session.
 */
export async function graphql<T>(query: string, variables: Record<string, unknown> = {}) {
  const response = await send('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    },
    body: JSON.stringify({ query, variables }),
  });
  let body: GraphqlResponseBody<T>;
  try {
    body = (await response.json()) as GraphqlResponseBody<T>;
  } catch {
    throw toApiError(response.status, undefined);
  }
  const [first] = body.errors ?? [];
  if (first !== undefined || body.data == null) {
    const error = toApiError(response.status, first);
    if (error.unauthenticated) reportUnauthenticated();
    throw error;
  }
  return body.data;
}
