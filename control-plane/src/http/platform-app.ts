import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../logger.ts';
import { requireAdminToken } from './admin-auth.ts';
import { createHealthRouter, type ReadinessCheck } from './health-routes.ts';
import { problem, problemErrorHandler } from './problem.ts';
import type { RateLimits } from './rate-limits.ts';
import { requestContext } from './request-context.ts';
import { createTenantGateway, type TenantGatewayDeps } from './tenant-gateway.ts';
import { createTenantRouter, type TenantRoutesDeps } from './tenant-routes.ts';

export interface PlatformAppDeps extends TenantRoutesDeps {
  logger: Logger;
  adminTokenDigest: string;
  readinessChecks: ReadinessCheck[];
  gateway: Omit<TenantGatewayDeps, 'apiKeys' | 'adminTokenDigest'>;
  openApiDocument: object;
  /**
   * Routers of the platform's other modules (SCIM, audit, policies…). `operator` routers
   * sit under /api/v1 behind `apiAccess`; `public` ones bring their own auth.
   */
  modules?: PlatformModuleRoutes[];
  /**
   * Authenticates and authorises everything under /api/v1 (operator token or console session,
   * then a Cedar decision); the operator token alone when undefined.
   */
  apiAccess?: RequestHandler | undefined;
  /** Abuse limits on SCIM and on the gateway's failed authentications; none when undefined. */
  rateLimits?: RateLimits | undefined;
}

export interface PlatformModuleRoutes {
  path: string;
  access: 'operator' | 'public';
  router: Router;
}

/** The platform's HTTP surface: health, the operator API, OpenAPI, and the tenant gateway. */
export function createPlatformApp(deps: PlatformAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(deps.logger));
  app.use(helmet());
  app.use(createHealthRouter(deps.readinessChecks));

  // The gateway streams bodies through untouched: it is mounted before any body parser.
  app.use(
    '/t',
    createTenantGateway({
      ...deps.gateway,
      apiKeys: deps.apiKeys,
      adminTokenDigest: deps.adminTokenDigest,
      failedAuthentications: deps.rateLimits?.failedAuthentications,
    }),
  );

  app.get('/api/v1/openapi.json', (_request, response) => {
    response.json(deps.openApiDocument);
  });
  const modules = deps.modules ?? [];
  // Counted before the SCIM router authenticates, so floods of bad tokens are limited too.
  if (deps.rateLimits) app.use('/scim/v2', deps.rateLimits.scim());
  for (const module of modules.filter((candidate) => candidate.access === 'public')) {
    app.use(module.path, module.router);
  }
  // One guard for the whole operator API: every route behind it has been authorised.
  app.use('/api/v1', deps.apiAccess ?? requireAdminToken(deps.adminTokenDigest));
  app.use('/api/v1', createTenantRouter(deps));
  for (const module of modules.filter((candidate) => candidate.access === 'operator')) {
    app.use(`/api/v1${module.path}`, module.router);
  }

  app.use((request, _response, next) => {
    next(
      problem({
        status: 404,
        slug: 'not-found',
        title: 'Not found',
        detail: `No route for ${request.method} ${request.path}.`,
      }),
    );
  });
  app.use(problemErrorHandler);
  return app;
}
