/**
 * The platform's Cedar schema (namespace `Citadel`): the one place that says which
 * principals may ask for which actions on which resources. Both planes authorise against
 * it, and every policy, the plans' defaults and tenant admins' own alike, is validated
 * against it before it is used.
 *
 * Principals are users and API keys; both belong to exactly one tenant. Every resource
 * carries its `tenant`, so tenant isolation is one `forbid` policy (see plan-policies.ts).
 */
export const CITADEL_CEDAR_SCHEMA = `namespace Citadel {
  // What every request may carry beside principal, action and resource.
  type RequestContext = {
    // The principal authenticated with a second factor in this session.
    mfa?: Bool,
    // The client's address as the gateway saw it.
    sourceIp?: String,
  };

  type TransferContext = {
    mfa?: Bool,
    sourceIp?: String,
    amountCents: Long,
  };

  type MemberContext = {
    mfa?: Bool,
    sourceIp?: String,
    // The role a membership change grants, and the role the member has before it.
    grantsRole?: String,
    targetRole?: String,
  };

  // The platform itself: the resource of platform-operator actions with no tenant.
  entity Platform;

  // The platform operator (the CITADEL_ADMIN_TOKEN bearer).
  entity Operator;

  // The customer: it owns tenants; console accounts are its members.
  entity Organization;

  entity Tenant = {
    plan?: String,
    organization?: Organization,
  };

  // Roles are platform-wide names (owner, admin, member, viewer, auditor); a principal's
  // tenant, not the role, decides where it applies.
  entity Role;

  entity Group in [Role] = {
    tenant: Tenant,
  };

  entity User in [Group, Role] = {
    tenant: Tenant,
    email?: String,
  };

  // A console account as one request sees it: \`organization\` or \`tenant\` is set only
  // where the account is a member, and its parent is its (effective) role there.
  entity Account in [Role] = {
    email: String,
    organization?: Organization,
    tenant?: Tenant,
  };

  entity ApiKey in [Role] = {
    tenant: Tenant,
    scopes: Set<String>,
  };

  // Data-plane resources.
  entity Document = {
    tenant: Tenant,
    owner?: User,
    classification?: String,
  };

  entity AgentRun = {
    tenant: Tenant,
    startedBy?: User,
  };

  entity Course = {
    tenant: Tenant,
  };

  entity Exam in [Course] = {
    tenant: Tenant,
  };

  entity Wallet = {
    tenant: Tenant,
    owner?: User,
  };

  // Action groups: policies grant these instead of listing every action.
  action readOnly, administer, contribute;

  // Control plane: the platform.
  action "platform.manage"
    appliesTo { principal: [Operator, Account], resource: [Platform], context: RequestContext };

  // Control plane: organisations (decided by the platform's console policies).
  action "organization.read", "member.read" in [readOnly]
    appliesTo { principal: [Operator, Account], resource: [Organization], context: RequestContext };
  action "organization.update", "tenant.create" in [administer]
    appliesTo { principal: [Operator, Account], resource: [Organization], context: RequestContext };
  // Membership changes, of an organisation or of one tenant.
  action "member.manage" in [administer]
    appliesTo { principal: [User, ApiKey, Account, Operator], resource: [Organization, Tenant], context: MemberContext };
  action "organization.delete"
    appliesTo { principal: [Operator, Account], resource: [Organization], context: RequestContext };

  // Control plane: one tenant (decided by the tenant's policies, or the console's for the operator).
  action "tenant.read", "policy.read" in [readOnly]
    appliesTo { principal: [User, ApiKey, Account, Operator], resource: [Tenant], context: RequestContext };
  action "tenant.update", "member.invite", "policy.write", "audit.read", "apiKey.manage", "scim.manage", "sso.manage" in [administer]
    appliesTo { principal: [User, ApiKey, Account, Operator], resource: [Tenant], context: RequestContext };
  action "tenant.suspend", "tenant.delete"
    appliesTo { principal: [User, ApiKey, Account, Operator], resource: [Tenant], context: RequestContext };

  // Data plane.
  action "document.read", "document.search" in [readOnly]
    appliesTo { principal: [User, ApiKey], resource: [Document], context: RequestContext };
  action "document.write" in [contribute]
    appliesTo { principal: [User, ApiKey], resource: [Document], context: RequestContext };
  action "run.read" in [readOnly]
    appliesTo { principal: [User, ApiKey], resource: [AgentRun], context: RequestContext };
  action "run.create" in [contribute]
    appliesTo { principal: [User, ApiKey], resource: [AgentRun], context: RequestContext };
  action "exam.take" in [contribute]
    appliesTo { principal: [User], resource: [Exam], context: RequestContext };
  action "wallet.read" in [readOnly]
    appliesTo { principal: [User, ApiKey], resource: [Wallet], context: RequestContext };
  action "wallet.transfer"
    appliesTo { principal: [User, ApiKey], resource: [Wallet], context: TransferContext };
}
`;

/** Every concrete action of the schema (action groups excluded). */
export const CITADEL_ACTIONS = [
  'platform.manage',
  'organization.read',
  'organization.update',
  'organization.delete',
  'member.read',
  'member.manage',
  'tenant.create',
  'tenant.delete',
  'sso.manage',
  'tenant.read',
  'tenant.update',
  'tenant.suspend',
  'member.invite',
  'policy.read',
  'policy.write',
  'audit.read',
  'apiKey.manage',
  'scim.manage',
  'document.read',
  'document.write',
  'document.search',
  'run.create',
  'run.read',
  'exam.take',
  'wallet.read',
  'wallet.transfer',
] as const;

export type CitadelAction = (typeof CITADEL_ACTIONS)[number];

/** The schema's entity types, without the namespace. */
export type CitadelEntityType =
  | 'Platform'
  | 'Operator'
  | 'Organization'
  | 'Account'
  | 'Tenant'
  | 'Role'
  | 'Group'
  | 'User'
  | 'ApiKey'
  | 'Document'
  | 'AgentRun'
  | 'Course'
  | 'Exam'
  | 'Wallet';

/** `Citadel::Action::"<name>"` as a Cedar entity reference. */
export function citadelAction(name: CitadelAction): { type: string; id: string } {
  return { type: 'Citadel::Action', id: name };
}

/** `Citadel::<type>::"<id>"` as a Cedar entity reference. */
export function citadelEntity(type: CitadelEntityType, id: string): { type: string; id: string } {
  return { type: `Citadel::${type}`, id };
}
