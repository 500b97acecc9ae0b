import type { Request, Response } from 'express';
import { Router } from 'express';
import { createYoga } from 'graphql-yoga';
import type { ApiPrincipal } from '../access/access-control.ts';
import type { ConsoleSessions } from '../accounts/console-session.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { ApiKeyService } from '../domain/api-key.service.ts';
import { secretMatchesDigest } from '../domain/secret-digest.ts';
import type { TenantService } from '../domain/tenant.service.ts';
import { bearerToken } from '../http/bearer-token.ts';
import type { PlatformModuleRoutes } from '../http/platform-app.ts';
import type { Logger } from '../logger.ts';
import type { OrganizationService } from '../organizations/organization.service.ts';
import { buildConsoleSchema, type ConsoleContext } from './console-schema.ts';
import { codedError, toClientError } from './graphql-errors.ts';

/** The largest GraphQL request body accepted (the console's documents are small). */
const MAX_BODY_BYTES = 64 * 1024;

export interface GraphqlModuleDeps {
  logger: Logger;
  adminTokenDigest: string;
  sessions?: ConsoleSessions | undefined;
  organizations: OrganizationService;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  audit?: Pick<AuditRecorder, 'record'> | undefined;
}

interface ServerContext {
  req: Request;
  res: Response;
}

/** A GraphQL error response, for refusals decided before Yoga runs. */
function sendGraphqlError(
  response: Response,
  status: number,
  error: ReturnType<typeof codedError>,
) {
  response
    .status(status)
    .type('application/graphql-response+json')
    .json({ errors: [error] });
}

/**
 * The console's API at /graphql (GraphQL Yoga + Pothos). Callers are console accounts (the
 * session cookie; every POST must echo the session's CSRF token, so no other site can make a
 * signed-in browser run a mutation) or the operator (bearer token).
 */
export function createGraphqlModule(deps: GraphqlModuleDeps): { routes: PlatformModuleRoutes[] } {
  const logger = deps.logger.child({ component: 'graphql' });
  const yoga = createYoga<ServerContext>({
    schema: buildConsoleSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    logging: false,
    maskedErrors: {
      maskError: (error) => {
        const mapped = toClientError(error);
        if (mapped.extensions.code === 'INTERNAL_SERVER_ERROR') {
          logger.error({ err: error }, 'GraphQL resolver failed');
        }
        return mapped;
      },
    },
    context: ({ req, res }): ConsoleContext => {
      const locals = res.locals as {
        principal?: ApiPrincipal;
        account?: ConsoleContext['account'];
      };
      return {
        principal: locals.principal,
        account: locals.account,
        ip: req.ip,
        organizations: deps.organizations,
        tenants: deps.tenants,
        apiKeys: deps.apiKeys,
        audit: deps.audit,
      };
    },
  });

  const router = Router();
  router.use(async (request, response, next) => {
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > MAX_BODY_BYTES) {
      sendGraphqlError(response, 413, codedError('BAD_USER_INPUT', 'The request is too large.'));
      return;
    }
    const token = bearerToken(request);
    if (token !== undefined) {
      if (!secretMatchesDigest(token, deps.adminTokenDigest)) {
        sendGraphqlError(response, 401, codedError('UNAUTHENTICATED', 'Unknown bearer token.'));
        return;
      }
      response.locals.principal = { type: 'operator' } satisfies ApiPrincipal;
      next();
      return;
    }
    const session = await deps.sessions?.resolve(request);
    if (session) {
      if (request.method === 'POST' && !deps.sessions?.checkCsrf(request, session)) {
        sendGraphqlError(
          response,
          403,
          codedError('CSRF', "Send the session's CSRF token in the x-csrf-token header."),
        );
        return;
      }
      response.locals.principal = {
        type: 'account',
        accountId: session.accountId,
        email: session.email,
        sessionId: session.sessionId,
      } satisfies ApiPrincipal;
      response.locals.account = {
        id: session.accountId,
        email: session.email,
        displayName: session.displayName,
      };
    }
    next();
  });
  router.use((request, response) => {
    void yoga.handle(request, response, { req: request, res: response });
  });
  return { routes: [{ path: '/graphql', access: 'public', router }] };
}
