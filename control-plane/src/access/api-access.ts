import type { RequestHandler, Response } from 'express';
import type { ConsoleSessions } from '../accounts/console-session.ts';
import type { AuditActor } from '../audit/audit-entry.ts';
import { secretMatchesDigest } from '../domain/secret-digest.ts';
import { bearerToken } from '../http/bearer-token.ts';
import { problem, unauthorizedProblem } from '../http/problem.ts';
import type { AccessControl, ApiPrincipal, TenantScope } from './access-control.ts';
import { apiRequestScope } from './api-actions.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface ApiAccessDeps {
  adminTokenDigest: string;
  /** Console sessions (cookie); without them only the operator token is accepted. */
  sessions?: ConsoleSessions | undefined;
  access: AccessControl;
  findTenant(slug: string): Promise<TenantScope | undefined>;
}

/** The principal that `apiAccess` authenticated; set on every request it lets through. */
export function apiPrincipalOf(response: Response): ApiPrincipal {
  const principal = response.locals.apiPrincipal as ApiPrincipal | undefined;
  if (!principal) throw new Error('apiAccess must run before this handler');
  return principal;
}

/** The audit log's actor for the request's principal. */
export function auditActorOf(response: Response, ip: string | undefined): AuditActor {
  const principal = response.locals.apiPrincipal as ApiPrincipal | undefined;
  if (principal?.type === 'account') return { type: 'account', id: principal.accountId, ip };
  return { type: 'operator', ip };
}

function forbidden(detail: string, decisionId: string) {
  return problem({
    status: 403,
    slug: 'forbidden',
    title: 'Forbidden',
    detail,
    extensions: { decisionId },
  });
}

/**
 * Authenticates and authorises every request under /api/v1. The caller is the platform
 * operator (bearer token) or a console account (session cookie; a state-changing request
 * must also carry the session's CSRF token). The request is then mapped to a Cedar action
 * and decided by Cedar before any route runs.
 */
export function apiAccess(deps: ApiAccessDeps): RequestHandler {
  async function authenticate(
    request: Parameters<RequestHandler>[0],
  ): Promise<ApiPrincipal | 'csrf' | undefined> {
    const token = bearerToken(request);
    if (token !== undefined) {
      return secretMatchesDigest(token, deps.adminTokenDigest) ? { type: 'operator' } : undefined;
    }
    const session = await deps.sessions?.resolve(request);
    if (!session) return undefined;
    if (!SAFE_METHODS.has(request.method) && !deps.sessions?.checkCsrf(request, session)) {
      return 'csrf';
    }
    return {
      type: 'account',
      accountId: session.accountId,
      email: session.email,
      sessionId: session.sessionId,
    };
  }

  return async (request, response, next) => {
    const principal = await authenticate(request);
    if (principal === undefined) {
      next(
        unauthorizedProblem('A platform-operator bearer token or a console session is required.'),
      );
      return;
    }
    if (principal === 'csrf') {
      next(
        problem({
          status: 403,
          slug: 'csrf',
          title: 'CSRF check failed',
          detail:
            'A state-changing request with a session cookie must send the x-csrf-token header.',
        }),
      );
      return;
    }
    response.locals.apiPrincipal = principal;
    const scope = apiRequestScope(request.method, request.path);
    if (scope.scope === 'platform') {
      const decision = deps.access.decidePlatform(principal, scope.action);
      if (decision.decision === 'allow') next();
      else next(forbidden('Only the platform operator may do this.', decision.decisionId));
      return;
    }
    const tenant = await deps.findTenant(scope.slug);
    // No tenant, nothing to protect: the route answers 404 (tenant slugs are public names).
    if (!tenant) {
      next();
      return;
    }
    const decision = await deps.access.decideTenant(principal, tenant, scope.action, {
      sourceIp: request.ip ?? '',
    });
    if (decision.decision === 'allow') next();
    else
      next(
        forbidden(
          `Not allowed to ${scope.action} on tenant "${tenant.slug}".`,
          decision.decisionId,
        ),
      );
  };
}
