import { graphql } from './graphql-client.ts';

/** The console's GraphQL operations (control-plane/src/graphql/console-schema.ts). */
export type MemberRole = 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER';

export const MEMBER_ROLES: readonly MemberRole[] = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'];

export interface TenantCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface Tenant {
  slug: string;
  displayName: string;
  plan: string;
  phase: string;
  suspended: boolean;
  deleting: boolean;
  conditions: TenantCondition[];
  endpoints: Array<{ name: string; url: string }>;
  myRole: MemberRole | null;
}

export interface Member {
  accountId: string;
  email: string;
  displayName: string;
  role: MemberRole;
  joinedAt: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: MemberRole;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
}

export interface Organization {
  id: string;
  slug: string;
  displayName: string;
  myRole: MemberRole | null;
  members: Member[];
  invitations: Invitation[];
  tenants: Tenant[];
}

export interface IssuedApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  key: string;
}

const TENANT_FIELDS = `slug displayName plan phase suspended deleting myRole
  conditions { type status reason message lastTransitionTime }
  endpoints { name url }`;

const ORGANIZATION_FIELDS = `id slug displayName myRole
  members { accountId email displayName role joinedAt }
  invitations { id email role createdAt expiresAt acceptedAt revokedAt }
  tenants { ${TENANT_FIELDS} }`;

export async function listOrganizations(): Promise<Organization[]> {
  const data = await graphql<{ organizations: Organization[] }>(
    `query Organizations { organizations { ${ORGANIZATION_FIELDS} } }`,
  );
  return data.organizations;
}

export async function createOrganization(slug: string, displayName: string): Promise<void> {
  await graphql(
    `
      mutation ($slug: String!, $displayName: String!) {
        createOrganization(slug: $slug, displayName: $displayName) {
          id
        }
      }
    `,
    { slug, displayName },
  );
}

export async function createTenant(input: {
  organization: string;
  slug: string;
  displayName: string;
  plan: string;
}): Promise<void> {
  await graphql(
    `
      mutation ($organization: String!, $slug: String!, $displayName: String!, $plan: String!) {
        createTenant(
          organization: $organization
          slug: $slug
          displayName: $displayName
          plan: $plan
        ) {
          slug
        }
      }
    `,
    input,
  );
}

export async function changeTenantState(
  slug: string,
  change: 'suspendTenant' | 'resumeTenant' | 'deleteTenant',
): Promise<void> {
  await graphql(`mutation ($slug: String!) { ${change}(slug: $slug) { slug } }`, { slug });
}

export async function inviteMember(input: {
  organization: string;
  email: string;
  role: MemberRole;
}): Promise<void> {
  await graphql(
    `
      mutation ($organization: String!, $email: String!, $role: MemberRole!) {
        inviteMember(organization: $organization, email: $email, role: $role) {
          id
        }
      }
    `,
    input,
  );
}

export async function revokeInvitation(organization: string, id: string): Promise<void> {
  await graphql(
    `
      mutation ($organization: String!, $id: ID!) {
        revokeInvitation(organization: $organization, id: $id)
      }
    `,
    { organization, id },
  );
}

/** Accepts the invitation of `token`; answers the organisation joined. */
export async function acceptInvitation(
  token: string,
): Promise<{ slug: string; displayName: string }> {
  const data = await graphql<{ acceptInvitation: { slug: string; displayName: string } }>(
    `
      mutation ($token: String!) {
        acceptInvitation(token: $token) {
          slug
          displayName
        }
      }
    `,
    { token },
  );
  return data.acceptInvitation;
}

export async function updateMemberRole(input: {
  organization: string;
  accountId: string;
  role: MemberRole;
}): Promise<void> {
  await graphql(
    `
      mutation ($organization: String!, $accountId: ID!, $role: MemberRole!) {
        updateMemberRole(organization: $organization, accountId: $accountId, role: $role) {
          role
        }
      }
    `,
    input,
  );
}

export async function removeMember(organization: string, accountId: string): Promise<void> {
  await graphql(
    `
      mutation ($organization: String!, $accountId: ID!) {
        removeMember(organization: $organization, accountId: $accountId)
      }
    `,
    { organization, accountId },
  );
}

export async function createApiKey(tenant: string, name: string): Promise<IssuedApiKey> {
  const data = await graphql<{ createApiKey: IssuedApiKey }>(
    `
      mutation ($tenant: String!, $name: String!) {
        createApiKey(tenant: $tenant, name: $name) {
          id
          name
          prefix
          scopes
          key
        }
      }
    `,
    { tenant, name },
  );
  return data.createApiKey;
}
