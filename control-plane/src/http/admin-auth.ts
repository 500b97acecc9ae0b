import type { RequestHandler } from 'express';
import { secretMatchesDigest } from '../domain/secret-digest.ts';
import { bearerToken } from './bearer-token.ts';
import { unauthorizedProblem, type HttpProblem } from './problem.ts';

function unauthorized(): HttpProblem {
  return unauthorizedProblem('A valid platform-operator bearer token is required.');
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
