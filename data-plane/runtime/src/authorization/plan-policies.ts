/**
 * The Cedar policies every tenant starts with, by plan. Ids start with `citadel/`, a prefix
 * tenant policies may not use, so a decision's determining policies say whose rule it was.
 *
 * Cedar's `forbid` always overrides `permit`: the isolation rules below hold whatever a
 * tenant admin adds.
 */
export const PLATFORM_POLICY_PREFIX = 'citadel/';

/** The plans that have their own defaults; others get the base set. */
export type PolicyPlan = 'starter' | 'business' | 'enterprise';

const BASE_POLICIES: Readonly<Record<string, string>> = {
  'citadel/tenant-isolation': `forbid (principal, action, resource)
unless {
  principal has tenant &&
  ((resource is Citadel::Tenant && resource == principal.tenant) ||
   (resource has tenant && resource.tenant == principal.tenant))
};`,
  'citadel/owners': `permit (principal in Citadel::Role::"owner", action, resource);`,
  // Only owners make or unmake owners: a tenant admin cannot take the tenant over.
  'citadel/only-owners-touch-owners': `forbid (principal, action == Citadel::Action::"member.manage", resource)
when {
  (context has grantsRole && context.grantsRole == "owner") ||
  (context has targetRole && context.targetRole == "owner")
}
unless { principal in Citadel::Role::"owner" };`,
  'citadel/admins': `permit (
  principal in Citadel::Role::"admin",
  action in [Citadel::Action::"readOnly", Citadel::Action::"administer", Citadel::Action::"contribute"],
  resource
);`,
  'citadel/members': `permit (
  principal in Citadel::Role::"member",
  action in [
    Citadel::Action::"tenant.read",
    Citadel::Action::"document.read",
    Citadel::Action::"document.search",
    Citadel::Action::"run.read",
    Citadel::Action::"run.create",
    Citadel::Action::"exam.take",
    Citadel::Action::"wallet.read"
  ],
  resource
);`,
  'citadel/viewers': `permit (
  principal in Citadel::Role::"viewer",
  action in [Citadel::Action::"tenant.read", Citadel::Action::"document.read", Citadel::Action::"run.read"],
  resource
);`,
  'citadel/document-owners': `permit (
  principal,
  action in [Citadel::Action::"document.read", Citadel::Action::"document.write"],
  resource is Citadel::Document
)
when { resource has owner && resource.owner == principal };`,
  // A restricted document is for its owner and the tenant's owners and admins only.
  'citadel/restricted-documents': `forbid (
  principal,
  action in [Citadel::Action::"document.read", Citadel::Action::"document.search", Citadel::Action::"document.write"],
  resource is Citadel::Document
)
when { resource has classification && resource.classification == "restricted" }
unless {
  (resource has owner && resource.owner == principal) ||
  principal in Citadel::Role::"owner" ||
  principal in Citadel::Role::"admin"
};`,
  'citadel/wallet-owners': `permit (
  principal,
  action in [Citadel::Action::"wallet.read", Citadel::Action::"wallet.transfer"],
  resource is Citadel::Wallet
)
when { resource has owner && resource.owner == principal };`,
  'citadel/api-key-read-scope': `permit (
  principal is Citadel::ApiKey,
  action in [Citadel::Action::"document.read", Citadel::Action::"document.search", Citadel::Action::"run.read"],
  resource
)
when { principal.scopes.contains("read") };`,
  // `*`: everything the tenant's keys may do — read and contribute, never administer.
  'citadel/api-key-all-scopes': `permit (
  principal is Citadel::ApiKey,
  action in [Citadel::Action::"readOnly", Citadel::Action::"contribute"],
  resource
)
when { principal.scopes.contains("*") };`,
  'citadel/api-key-write-scope': `permit (
  principal is Citadel::ApiKey,
  action in [Citadel::Action::"document.write", Citadel::Action::"run.create"],
  resource
)
when { principal.scopes.contains("write") };`,
};

const BUSINESS_POLICIES: Readonly<Record<string, string>> = {
  'citadel/plan-business-members-write': `permit (
  principal in Citadel::Role::"member",
  action == Citadel::Action::"document.write",
  resource
);`,
};

const PLAN_POLICIES: Readonly<Record<PolicyPlan, Readonly<Record<string, string>>>> = {
  starter: {
    // SSO provisioning is a business feature.
    'citadel/plan-starter-no-scim': `forbid (principal, action == Citadel::Action::"scim.manage", resource);`,
  },
  business: BUSINESS_POLICIES,
  enterprise: {
    ...BUSINESS_POLICIES,
    'citadel/plan-enterprise-auditors': `permit (
  principal in Citadel::Role::"auditor",
  action in [Citadel::Action::"tenant.read", Citadel::Action::"policy.read", Citadel::Action::"audit.read"],
  resource
);`,
    'citadel/plan-enterprise-transfer-mfa': `forbid (principal, action == Citadel::Action::"wallet.transfer", resource)
unless { context has mfa && context.mfa };`,
  },
};

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The platform policies of one tenant: the base set, its plan's additions, and a pin that
 * forbids every principal of another tenant (defence in depth beside `tenant-isolation`,
 * which compares the principal's tenant with the resource's: the pin holds even if a caller
 * builds a request whose principal and resource both name another tenant).
 *
 * @param planId the tenant's plan; an unknown plan gets the base set only.
 * @param tenantId the tenant's uid (a UUID): the id of its `Citadel::Tenant` entity.
 */
export function platformPoliciesFor(planId: string, tenantId: string): Record<string, string> {
  if (!UUID_PATTERN.test(tenantId)) throw new TypeError('tenantId must be a UUID');
  const plan = Object.hasOwn(PLAN_POLICIES, planId) ? PLAN_POLICIES[planId as PolicyPlan] : {};
  return {
    'citadel/tenant-pin': `forbid (principal, action, resource)
unless { principal has tenant && principal.tenant == Citadel::Tenant::"${tenantId.toLowerCase()}" };`,
    ...BASE_POLICIES,
    ...plan,
  };
}
