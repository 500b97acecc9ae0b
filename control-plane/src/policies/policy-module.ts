import type { TenantResource } from '@citadel/contracts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PlatformModuleRoutes } from '../http/platform-app.ts';
import type { Logger } from '../logger.ts';
import { createPrismaPolicyRepository } from './prisma-policy-repository.ts';
import { createPolicyRouter } from './policy-routes.ts';
import {
  createPolicyService,
  type PolicyDecisionRecord,
  type PolicyService,
} from './policy.service.ts';

export interface PolicyModuleDeps {
  prisma: PrismaClient;
  logger: Logger;
  getTenant(slug: string): Promise<TenantResource | undefined>;
  /** Receives every decision (for the audit log). */
  onDecision?: (record: PolicyDecisionRecord) => void | Promise<void>;
  /** Records policy changes, and rejected ones, in the tenant's audit log. */
  audit?: Pick<AuditRecorder, 'record'> | undefined;
  /** See PolicyServiceDeps.maxAgeMs. */
  maxAgeMs?: number;
}

/** The policy module: the service other modules authorise through, and its routes. */
export interface PolicyModule {
  policies: PolicyService;
  routes: PlatformModuleRoutes[];
}

/** Wires the policy module: the Prisma repository, the service with its cache, the router. */
export function createPolicyModule(deps: PolicyModuleDeps): PolicyModule {
  const policies = createPolicyService({
    repository: createPrismaPolicyRepository(deps.prisma),
    getTenant: (slug) => deps.getTenant(slug),
    logger: deps.logger.child({ component: 'policies' }),
    ...(deps.onDecision === undefined ? {} : { onDecision: deps.onDecision }),
    ...(deps.maxAgeMs === undefined ? {} : { maxAgeMs: deps.maxAgeMs }),
    audit: deps.audit,
  });
  return {
    policies,
    routes: [
      { path: '/tenants/:slug/policies', access: 'operator', router: createPolicyRouter(policies) },
    ],
  };
}
