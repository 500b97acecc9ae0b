import type { RequestPrincipal } from '../data-plane-token.ts';
import {
  createCedarAuthorizer,
  type AuthorizationDecision,
  type CedarEntity,
  type CedarEntityUid,
  type CedarValueJson,
} from './cedar-authorizer.ts';
import {
  CITADEL_CEDAR_SCHEMA,
  citadelAction,
  citadelEntity,
  type CitadelAction,
} from './citadel-schema.ts';
import { platformPoliciesFor } from './plan-policies.ts';

/** The roles a token may carry; others are ignored (they grant nothing in the schema). */
const KNOWN_ROLES = new Set(['owner', 'admin', 'member', 'viewer', 'auditor']);

export interface DataPlaneAuthorizerOptions {
  tenantId: string;
  planId: string;
  /** The tenant admins' own policies (id → Cedar text), validated when they were saved. */
  tenantPolicies?: Readonly<Record<string, string>>;
}

/** What a data-plane service asks: may this verified principal do `action` to `resource`? */
export interface DataPlaneAuthorizationRequest {
  principal: RequestPrincipal;
  action: CitadelAction;
  /** The resource entity (e.g. a Document with its `tenant`, `owner`, `classification`). */
  resource: CedarEntity;
  /** Further entities the policies may read (the resource's parents…). */
  entities?: CedarEntity[];
  context?: Record<string, CedarValueJson>;
}

function tenantRef(tenantId: string): CedarValueJson {
  return { __entity: citadelEntity('Tenant', tenantId) };
}

/**
 * The principal of a verified request as Cedar entities. A user carries its tenant and its
 * roles (from the token); an API key its tenant and scopes. The platform operator has no
 * tenant: the plan policies' isolation rules deny it tenant data unless a tenant's own
 * policy could say otherwise — and the `forbid`s cannot be overridden, so it cannot.
 */
export function principalEntities(
  principal: RequestPrincipal,
  tenantId: string,
): { uid: CedarEntityUid; entities: CedarEntity[] } {
  if (principal.type === 'user') {
    const roles = principal.roles.filter((role) => KNOWN_ROLES.has(role));
    const uid = citadelEntity('User', principal.id);
    return {
      uid,
      entities: [
        {
          uid,
          attrs: { tenant: tenantRef(tenantId) },
          parents: roles.map((role) => citadelEntity('Role', role)),
        },
        ...roles.map((role) => ({ uid: citadelEntity('Role', role), attrs: {}, parents: [] })),
      ],
    };
  }
  if (principal.type === 'api-key') {
    const uid = citadelEntity('ApiKey', principal.id);
    return {
      uid,
      entities: [
        {
          uid,
          attrs: { tenant: tenantRef(tenantId), scopes: [...principal.scopes] },
          parents: [],
        },
      ],
    };
  }
  const uid = citadelEntity('Operator', 'platform');
  return { uid, entities: [{ uid, attrs: {}, parents: [] }] };
}

/**
 * The helper data-plane services authorise with: one tenant's policy set (plan defaults
 * plus the tenant's own) pre-parsed once, and a request built from the host-verified
 * principal. Each decision carries its id, determining policies and input digest for the
 * service to log or audit.
 */
export function createDataPlaneAuthorizer(options: DataPlaneAuthorizerOptions) {
  const policies = {
    ...platformPoliciesFor(options.planId, options.tenantId),
    ...options.tenantPolicies,
  };
  const tenantEntity: CedarEntity = {
    uid: citadelEntity('Tenant', options.tenantId),
    attrs: { plan: options.planId },
    parents: [],
  };
  const authorizer = createCedarAuthorizer({
    schema: CITADEL_CEDAR_SCHEMA,
    policies,
    entities: [tenantEntity],
    policySetId: `data-plane-${options.tenantId}`,
  });
  return {
    authorize(request: DataPlaneAuthorizationRequest): AuthorizationDecision {
      const principal = principalEntities(request.principal, options.tenantId);
      return authorizer.authorize({
        principal: principal.uid,
        action: citadelAction(request.action),
        resource: request.resource.uid,
        context: request.context ?? {},
        entities: [...principal.entities, request.resource, ...(request.entities ?? [])],
      });
    },
    /** Swaps in the tenant's current policies (after a change); throws and keeps the old on error. */
    replaceTenantPolicies(tenantPolicies: Readonly<Record<string, string>>): void {
      authorizer.replacePolicies({
        ...platformPoliciesFor(options.planId, options.tenantId),
        ...tenantPolicies,
      });
    },
  };
}

export type DataPlaneAuthorizer = ReturnType<typeof createDataPlaneAuthorizer>;
