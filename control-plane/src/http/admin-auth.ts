import type { RequestHandler } from 'express';
import { secretMatchesDigest } from '../domain/secret-digest.ts';
import { bearerToken } from './bearer-token.ts';
import { HttpProblem, problem } from './problem.ts';

function unauthorized(): HttpProblem {
  const error = problem({
    status: 401,
    slug: 'unauthorized',
    title: 'Unauthorized',
    detail: 'A valid platform-operator bearer token is required.',
  });
  return new HttpProblem(error.problem, { 'WWW-Authenticate': 'Bearer realm="citadel"' });
}

/** Lets through requests bearing the platform-operator token (compared by digest, in constant time). */
export function requireAdminToken(adminTokenDigest: string): RequestHandler {
  return (request, _response, next) => {
    const token = bearerToken(request);
    if (token === undefined || !secretMatchesDigest(token, adminTokenDigest)) {
      next(unauthorized());
      return;
    }
    next();
  };
}
