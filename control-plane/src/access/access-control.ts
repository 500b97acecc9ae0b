import {
  CITADEL_CEDAR_SCHEMA,
  citadelAction,
  citadelEntity,
  createCedarAuthorizer,
  type AuthorizationDecision,
  type CedarEntity,
  type CedarEntityUid,
  type CedarValueJson,
  type CitadelAction,
} from '@citadel/data-plane-runtime';
import type { AuditActor } from '../audit/audit-entry.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import type { PolicyService } from '../policies/policy.service.ts';
import { CONSOLE_POLICIES } from './console-policies.ts';
import { asMemberRole, strongerRole, type MemberRole } from './member-roles.ts';

/** Who calls the control plane's API: the platform operator or a signed-in console account. */
export type ApiPrincipal =
  { type: 'operator' } | { type: 'account'; accountId: string; email: string; sessionId: string };

/** The tenant facts a decision needs. */
export interface TenantScope {
  id: string;
  slug: string;
  planId: string;
  organizationId: string | null;
}

/** The facts of a tenant that decisions need, by slug; undefined when there is none. */
export async function findTenantScope(
  prisma: PrismaClient,
  slug: string,
): Promise<TenantScope | undefined> {
  const row = await prisma.tenant.findUnique({
    where: { slug },
    select: { id: true, slug: true, planId: true, organizationId: true },
  });
  return row ?? undefined;
}

const ACTOR_TYPES: Readonly<Record<string, AuditActor['type']>> = {
  'Citadel::Account': 'account',
  'Citadel::Operator': 'operator',
  'Citadel::User': 'user',
};

/** The audit actor for a Cedar principal (an API key is recorded as its own type). */
export function auditActorOfCedarPrincipal(uid: CedarEntityUid): AuditActor {
  const type = ACTOR_TYPES[uid.type];
  if (type === 'operator') return { type };
  if (type !== undefined) return { type, id: uid.id };
  return { type: 'system', id: `${uid.type}::${uid.id}` };
}

/** Thrown by the `require…` calls when Cedar denies; the HTTP and GraphQL layers map it. */
export class AccessDeniedError extends Error {
  readonly decision: AuthorizationDecision;
  readonly action: CitadelAction;
  constructor(action: CitadelAction, decision: AuthorizationDecision) {
    super(`Not allowed to ${action}.`);
    this.name = 'AccessDeniedError';
    this.action = action;
    this.decision = decision;
  }
}

export interface AccessControlDeps {
  prisma: PrismaClient;
  /** Decides with a tenant's policies (plan defaults plus the tenant admins' own). */
  policies: Pick<PolicyService, 'authorize'>;
  logger: Logger;
}

type Context = Record<string, CedarValueJson>;

const ROLE_ENTITIES: CedarEntity[] = (['owner', 'admin', 'member', 'viewer'] as const).map(
  (role) => ({ uid: citadelEntity('Role', role), attrs: {}, parents: [] }),
);

function entityRef(type: 'Tenant' | 'Organization', id: string): CedarValueJson {
  return { __entity: citadelEntity(type, id) };
}

/**
 * Every authorisation decision of the control plane, made by Cedar: the platform operator
 * and organisations by the console policies, one tenant's resources by that tenant's
 * policies. Roles come from the database per decision (memberships change at once).
 */
export function createAccessControl(deps: AccessControlDeps) {
  const { prisma, logger } = deps;
  const consoleAuthorizer = createCedarAuthorizer({
    schema: CITADEL_CEDAR_SCHEMA,
    policies: CONSOLE_POLICIES,
    entities: ROLE_ENTITIES,
    policySetId: 'console',
  });

  async function organizationRoleOf(
    accountId: string,
    organizationId: string,
  ): Promise<MemberRole | undefined> {
    const member = await prisma.organizationMember.findUnique({
      where: { organizationId_accountId: { organizationId, accountId } },
      select: { role: true },
    });
    return asMemberRole(member?.role);
  }

  /** The stronger of the account's role in the tenant's organisation and on the tenant. */
  async function tenantRoleOf(accountId: string, tenant: TenantScope) {
    const [organizationRole, tenantMember] = await Promise.all([
      tenant.organizationId === null
        ? undefined
        : organizationRoleOf(accountId, tenant.organizationId),
      prisma.tenantMember.findUnique({
        where: { tenantId_accountId: { tenantId: tenant.id, accountId } },
        select: { role: true },
      }),
    ]);
    return strongerRole(organizationRole, asMemberRole(tenantMember?.role));
  }

  function accountEntity(
    principal: Extract<ApiPrincipal, { type: 'account' }>,
    role: MemberRole | undefined,
    scope: { tenant?: string; organization?: string },
  ): CedarEntity {
    const attrs: Record<string, CedarValueJson> = { email: principal.email };
    // Set only where the account is a member: the isolation forbids key on it.
    if (role !== undefined && scope.tenant !== undefined)
      attrs.tenant = entityRef('Tenant', scope.tenant);
    if (role !== undefined && scope.organization !== undefined)
      attrs.organization = entityRef('Organization', scope.organization);
    return {
      uid: citadelEntity('Account', principal.accountId),
      attrs,
      parents: role === undefined ? [] : [citadelEntity('Role', role)],
    };
  }

  function principalUid(principal: ApiPrincipal) {
    return principal.type === 'operator'
      ? citadelEntity('Operator', 'platform')
      : citadelEntity('Account', principal.accountId);
  }

  function tenantEntity(tenant: TenantScope): CedarEntity {
    const attrs: Record<string, CedarValueJson> = { plan: tenant.planId };
    if (tenant.organizationId !== null)
      attrs.organization = entityRef('Organization', tenant.organizationId);
    return { uid: citadelEntity('Tenant', tenant.id), attrs, parents: [] };
  }

  function logDecision(
    principal: ApiPrincipal,
    action: CitadelAction,
    resource: string,
    decision: AuthorizationDecision,
  ): void {
    logger.info(
      {
        authorization: {
          decisionId: decision.decisionId,
          decision: decision.decision,
          principal: principal.type === 'operator' ? 'operator' : principal.accountId,
          action,
          resource,
          determiningPolicies: decision.determiningPolicies,
          inputDigest: decision.inputDigest,
          errors: decision.errors,
        },
      },
      'authorization decision',
    );
  }

  async function decideTenant(
    principal: ApiPrincipal,
    tenant: TenantScope,
    action: CitadelAction,
    context: Context = {},
  ): Promise<AuthorizationDecision> {
    if (principal.type === 'operator') {
      const decision = consoleAuthorizer.authorize({
        principal: principalUid(principal),
        action: citadelAction(action),
        resource: citadelEntity('Tenant', tenant.id),
        context,
        entities: [tenantEntity(tenant)],
      });
      logDecision(principal, action, `tenant:${tenant.id}`, decision);
      return decision;
    }
    const role = await tenantRoleOf(principal.accountId, tenant);
    // The policy service records the decision (and audits denials) itself.
    return deps.policies.authorize(tenant.id, {
      principal: principalUid(principal),
      action: citadelAction(action),
      resource: citadelEntity('Tenant', tenant.id),
      context,
      entities: [accountEntity(principal, role, { tenant: tenant.id }), tenantEntity(tenant)],
    });
  }

  async function decideOrganization(
    principal: ApiPrincipal,
    organizationId: string,
    action: CitadelAction,
    context: Context = {},
  ): Promise<AuthorizationDecision> {
    const entities: CedarEntity[] = [
      { uid: citadelEntity('Organization', organizationId), attrs: {}, parents: [] },
    ];
    if (principal.type === 'account') {
      const role = await organizationRoleOf(principal.accountId, organizationId);
      entities.push(accountEntity(principal, role, { organization: organizationId }));
    }
    const decision = consoleAuthorizer.authorize({
      principal: principalUid(principal),
      action: citadelAction(action),
      resource: citadelEntity('Organization', organizationId),
      context,
      entities,
    });
    logDecision(principal, action, `organization:${organizationId}`, decision);
    return decision;
  }

  function decidePlatform(principal: ApiPrincipal, action: CitadelAction): AuthorizationDecision {
    const entities: CedarEntity[] = [
      { uid: citadelEntity('Platform', 'citadel'), attrs: {}, parents: [] },
    ];
    if (principal.type === 'account') entities.push(accountEntity(principal, undefined, {}));
    const decision = consoleAuthorizer.authorize({
      principal: principalUid(principal),
      action: citadelAction(action),
      resource: citadelEntity('Platform', 'citadel'),
      context: {},
      entities,
    });
    logDecision(principal, action, 'platform', decision);
    return decision;
  }

  function orThrow(action: CitadelAction, decision: AuthorizationDecision): AuthorizationDecision {
    if (decision.decision !== 'allow') throw new AccessDeniedError(action, decision);
    return decision;
  }

  return {
    decideTenant,
    decideOrganization,
    decidePlatform,
    tenantRoleOf,
    organizationRoleOf,
    async requireTenant(
      principal: ApiPrincipal,
      tenant: TenantScope,
      action: CitadelAction,
      context?: Context,
    ) {
      return orThrow(action, await decideTenant(principal, tenant, action, context));
    },
    async requireOrganization(
      principal: ApiPrincipal,
      organizationId: string,
      action: CitadelAction,
      context?: Context,
    ) {
      return orThrow(action, await decideOrganization(principal, organizationId, action, context));
    },
    requirePlatform(principal: ApiPrincipal, action: CitadelAction) {
      return orThrow(action, decidePlatform(principal, action));
    },
  };
}

export type AccessControl = ReturnType<typeof createAccessControl>;
