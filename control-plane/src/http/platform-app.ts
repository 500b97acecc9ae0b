import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from '../logger.ts';
import { requireAdminToken } from './admin-auth.ts';
import { createHealthRouter, type ReadinessCheck } from './health-routes.ts';
import { problem, problemErrorHandler } from './problem.ts';
import { requestContext } from './request-context.ts';
import { createTenantGateway, type TenantGatewayDeps } from './tenant-gateway.ts';
import { createTenantRouter, type TenantRoutesDeps } from './tenant-routes.ts';

export interface PlatformAppDeps extends TenantRoutesDeps {
  logger: Logger;
  adminTokenDigest: string;
  readinessChecks: ReadinessCheck[];
  gateway: Omit<TenantGatewayDeps, 'apiKeys' | 'adminTokenDigest'>;
  openApiDocument: object;
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
    }),
  );

  app.get('/api/v1/openapi.json', (_request, response) => {
    response.json(deps.openApiDocument);
  });
  app.use('/api/v1', requireAdminToken(deps.adminTokenDigest), createTenantRouter(deps));

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
