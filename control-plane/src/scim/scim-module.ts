import type { TenantResource } from '@citadel/contracts';
import type { PrismaClient } from '../adapters/prisma-client.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { PlatformModuleRoutes } from '../http/platform-app.ts';
import type { Logger } from '../logger.ts';
import { createPrismaScimGroupRepository } from './adapters/prisma-scim-group-repository.ts';
import { createPrismaScimTokenRepository } from './adapters/prisma-scim-token-repository.ts';
import { createPrismaScimUserRepository } from './adapters/prisma-scim-user-repository.ts';
import { createScimGroupService } from './domain/scim-group.service.ts';
import { createScimTokenService } from './domain/scim-token.service.ts';
import { createScimUserService } from './domain/scim-user.service.ts';
import { createScimRouter } from './http/scim-router.ts';
import { createScimTokenRouter } from './http/scim-token-routes.ts';

export interface ScimModuleDeps {
  prisma: PrismaClient;
  logger: Logger;
  /** The tenant by slug (for token issuance); defaults to a lookup of the tenants table. */
  getTenant?: ((slug: string) => Promise<TenantResource | undefined>) | undefined;
  /**
   * Called after a user is deactivated or deleted, for effects outside the database; the
   * user's sessions and tokens are already revoked in the transaction of the change.
   */
  onUserDeactivated?: ((tenantId: string, userId: string) => Promise<void> | void) | undefined;
  /** Where SCIM changes and token issuance are recorded; nothing is recorded without one. */
  audit?: Pick<AuditRecorder, 'record'> | undefined;
}

/** Looks a tenant up by slug with just what token issuance needs. */
function tenantLookup(prisma: PrismaClient) {
  return async (slug: string): Promise<TenantResource | undefined> => {
    const row = await prisma.tenant.findUnique({ where: { slug } });
    if (!row) return undefined;
    return {
      metadata: {
        name: row.slug,
        uid: row.id,
        ...(row.deletionRequestedAt
          ? { deletionTimestamp: row.deletionRequestedAt.toISOString() }
          : {}),
      },
    } as TenantResource;
  };
}

/** The SCIM 2.0 module: the /scim/v2 service provider and the operator's SCIM token API. */
export function createScimModule(deps: ScimModuleDeps): { routes: PlatformModuleRoutes[] } {
  const logger = deps.logger.child({ component: 'scim' });
  const tokens = createScimTokenService({
    repository: createPrismaScimTokenRepository(deps.prisma),
    getTenant: deps.getTenant ?? tenantLookup(deps.prisma),
    audit: deps.audit,
  });
  const users = createScimUserService({
    repository: createPrismaScimUserRepository(deps.prisma),
    logger,
    onUserDeactivated: deps.onUserDeactivated,
    audit: deps.audit,
  });
  const groups = createScimGroupService({
    repository: createPrismaScimGroupRepository(deps.prisma),
    audit: deps.audit,
  });
  return {
    routes: [
      { path: '/scim/v2', access: 'public', router: createScimRouter({ tokens, users, groups }) },
      {
        path: '/tenants/:slug/scim-tokens',
        access: 'operator',
        router: createScimTokenRouter(tokens),
      },
    ],
  };
}
