import type { ServerResponse } from 'node:http';

/**
 * Problem type URIs, as the platform names them (`PROBLEM_TYPE_BASE` in
 * `@citadel/contracts`). Repeated here rather than imported: the contracts package pulls
 * in zod, which would add ~60 ms to every tenant host's start.
 */
export const HOST_PROBLEM_TYPE_BASE = 'https://citadel.azora.dev/problems/';

/** An RFC 7807 problem as the host answers it. */
export interface HostProblem {
  /** The last segment of the problem type URI, e.g. `not-found`. */
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

/** Writes `problem` as `application/problem+json`. */
export function sendProblem(
  response: ServerResponse,
  problem: HostProblem,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ ...problem, type: `${HOST_PROBLEM_TYPE_BASE}${problem.type}` });
  response.writeHead(problem.status, {
    ...headers,
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Writes `body` as JSON with `status`. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}
