import SchemaBuilder from '@pothos/core';
import type { TenantResource } from '@citadel/contracts';
import type { GraphQLSchema } from 'graphql';
import type { ApiPrincipal } from '../access/access-control.ts';
import type { MemberRole } from '../access/member-roles.ts';
import { AUDIT_ACTIONS } from '../audit/audit-entry.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { ApiKeyService } from '../domain/api-key.service.ts';
import type { TenantService } from '../domain/tenant.service.ts';
import type {
  InvitationView,
  MemberView,
  OrganizationService,
  OrganizationView,
} from '../organizations/organization.service.ts';
import { codedError } from './graphql-errors.ts';

/** What every resolver gets: the caller (if any) and the services it may call. */
export interface ConsoleContext {
  principal: ApiPrincipal | undefined;
  ip: string | undefined;
  organizations: OrganizationService;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  audit?: Pick<AuditRecorder, 'record'> | undefined;
  /** The signed-in account's profile, when the caller is one. */
  account: { id: string; email: string; displayName: string } | undefined;
}

interface IssuedApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  key: string;
}

const MAX_SCOPES = 16;

function signedIn(context: ConsoleContext): ApiPrincipal {
  if (!context.principal) throw codedError('UNAUTHENTICATED', 'Sign in first.');
  return context.principal;
}

/**
 * The console's GraphQL schema, code first (Pothos). Resolvers stay thin: each calls one
 * use case, which decides access through Cedar; errors are mapped in one place.
 */
export function buildConsoleSchema(): GraphQLSchema {
  // Fields are non-null unless they say otherwise: a client can rely on what the schema says.
  const builder = new SchemaBuilder<{
    Context: ConsoleContext;
    Scalars: { DateTime: { Input: Date; Output: Date } };
    DefaultFieldNullability: false;
  }>({ defaultFieldNullability: false });

  builder.scalarType('DateTime', {
    description: 'An instant, as an ISO 8601 string in UTC.',
    serialize: (value) => value.toISOString(),
    parseValue: (value) => {
      const date = new Date(String(value));
      if (Number.isNaN(date.getTime())) throw codedError('BAD_USER_INPUT', 'Not a date-time.');
      return date;
    },
  });

  const MemberRoleEnum = builder.enumType('MemberRole', {
    description: 'A role in an organisation or on one tenant.',
    values: {
      OWNER: { value: 'owner' as const },
      ADMIN: { value: 'admin' as const },
      MEMBER: { value: 'member' as const },
      VIEWER: { value: 'viewer' as const },
    },
  });

  const Account = builder
    .objectRef<{ id: string; email: string; displayName: string }>('Account')
    .implement({
      fields: (t) => ({
        id: t.exposeID('id'),
        email: t.exposeString('email'),
        displayName: t.exposeString('displayName'),
      }),
    });

  const Condition = builder
    .objectRef<TenantResource['status']['conditions'][number]>('TenantCondition')
    .implement({
      fields: (t) => ({
        type: t.exposeString('type'),
        status: t.exposeString('status'),
        reason: t.exposeString('reason'),
        message: t.exposeString('message'),
        lastTransitionTime: t.exposeString('lastTransitionTime'),
      }),
    });

  const Endpoint = builder.objectRef<{ name: string; url: string }>('TenantEndpoint').implement({
    fields: (t) => ({ name: t.exposeString('name'), url: t.exposeString('url') }),
  });

  const Tenant = builder.objectRef<TenantResource>('Tenant').implement({
    fields: (t) => ({
      id: t.id({ resolve: (tenant) => tenant.metadata.uid }),
      slug: t.string({ resolve: (tenant) => tenant.metadata.name }),
      displayName: t.string({ resolve: (tenant) => tenant.spec.displayName }),
      plan: t.string({ resolve: (tenant) => tenant.spec.plan }),
      phase: t.string({ resolve: (tenant) => tenant.status.phase }),
      suspended: t.boolean({ resolve: (tenant) => tenant.spec.suspended }),
      deleting: t.boolean({ resolve: (tenant) => tenant.metadata.deletionTimestamp !== undefined }),
      conditions: t.field({ type: [Condition], resolve: (tenant) => tenant.status.conditions }),
      endpoints: t.field({
        type: [Endpoint],
        resolve: (tenant) =>
          Object.entries(tenant.status.endpoints).map(([name, url]) => ({ name, url })),
      }),
      createdAt: t.string({ resolve: (tenant) => tenant.metadata.creationTimestamp }),
      myRole: t.field({
        type: MemberRoleEnum,
        nullable: true,
        description:
          'Your effective role: the stronger of your organisation role and a grant here.',
        resolve: async (tenant, _args, context) =>
          (await context.organizations.tenantRoleOf(signedIn(context), tenant.metadata.name)) ??
          null,
      }),
    }),
  });

  const Member = builder.objectRef<MemberView>('Member').implement({
    fields: (t) => ({
      accountId: t.exposeID('accountId'),
      email: t.exposeString('email'),
      displayName: t.exposeString('displayName'),
      role: t.field({ type: MemberRoleEnum, resolve: (member) => member.role }),
      joinedAt: t.expose('joinedAt', { type: 'DateTime' }),
    }),
  });

  const Invitation = builder.objectRef<InvitationView>('Invitation').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      email: t.exposeString('email'),
      role: t.field({ type: MemberRoleEnum, resolve: (invitation) => invitation.role }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
      acceptedAt: t.expose('acceptedAt', { type: 'DateTime', nullable: true }),
      revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    }),
  });

  const Organization = builder.objectRef<OrganizationView>('Organization').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      slug: t.exposeString('slug'),
      displayName: t.exposeString('displayName'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      myRole: t.field({
        type: MemberRoleEnum,
        nullable: true,
        resolve: async (organization, _args, context) =>
          (await context.organizations.roleOf(signedIn(context), organization.id)) ?? null,
      }),
      members: t.field({
        type: [Member],
        resolve: (organization, _args, context) =>
          context.organizations.members(signedIn(context), organization.slug),
      }),
      invitations: t.field({
        type: [Invitation],
        resolve: (organization, _args, context) =>
          context.organizations.invitations(signedIn(context), organization.slug),
      }),
      tenants: t.field({
        type: [Tenant],
        resolve: (organization, _args, context) =>
          context.organizations.tenants(signedIn(context), organization.slug),
      }),
    }),
  });

  const ApiKey = builder.objectRef<IssuedApiKey>('IssuedApiKey').implement({
    description: 'A new tenant API key. `key` is shown this once and stored only as a digest.',
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      prefix: t.exposeString('prefix'),
      scopes: t.exposeStringList('scopes'),
      key: t.exposeString('key'),
    }),
  });

  builder.queryType({
    fields: (t) => ({
      viewer: t.field({
        type: Account,
        nullable: true,
        description: 'The signed-in console account; null when signed out (or the operator).',
        resolve: (_root, _args, context) => context.account ?? null,
      }),
      organizations: t.field({
        type: [Organization],
        description: 'The organisations you belong to.',
        resolve: (_root, _args, context) => context.organizations.listMine(signedIn(context)),
      }),
      organization: t.field({
        type: Organization,
        args: { slug: t.arg.string({ required: true }) },
        resolve: (_root, args, context) => context.organizations.get(signedIn(context), args.slug),
      }),
      tenant: t.field({
        type: Tenant,
        args: { slug: t.arg.string({ required: true }) },
        resolve: (_root, args, context) =>
          context.organizations.tenant(signedIn(context), args.slug),
      }),
    }),
  });

  async function tenantLifecycle(
    context: ConsoleContext,
    slug: string,
    change: 'suspend' | 'resume' | 'delete',
  ): Promise<TenantResource> {
    const principal = signedIn(context);
    const action = change === 'delete' ? 'tenant.delete' : 'tenant.suspend';
    const scope = await context.organizations.authorizeTenant(principal, slug, action);
    const tenant = await context.tenants[change](slug);
    const audited = {
      suspend: AUDIT_ACTIONS.tenantSuspended,
      resume: AUDIT_ACTIONS.tenantResumed,
      delete: AUDIT_ACTIONS.tenantDeletionRequested,
    }[change];
    await context.audit?.record(scope.id, {
      actor: actorOf(context),
      action: audited,
      target: { type: 'tenant', id: scope.id },
      outcome: 'success',
      details: { slug },
    });
    return tenant;
  }

  function actorOf(context: ConsoleContext) {
    const principal = context.principal;
    return principal?.type === 'account'
      ? { type: 'account' as const, id: principal.accountId, ip: context.ip }
      : { type: 'operator' as const, ip: context.ip };
  }

  builder.mutationType({
    fields: (t) => ({
      createOrganization: t.field({
        type: Organization,
        args: {
          slug: t.arg.string({ required: true }),
          displayName: t.arg.string({ required: true }),
        },
        resolve: (_root, args, context) => context.organizations.create(signedIn(context), args),
      }),
      updateOrganization: t.field({
        type: Organization,
        args: {
          slug: t.arg.string({ required: true }),
          displayName: t.arg.string({ required: true }),
        },
        resolve: (_root, args, context) =>
          context.organizations.update(signedIn(context), args.slug, {
            displayName: args.displayName,
          }),
      }),
      inviteMember: t.field({
        type: Invitation,
        description: 'Mails an invitation; the token is only in the mail.',
        args: {
          organization: t.arg.string({ required: true }),
          email: t.arg.string({ required: true }),
          role: t.arg({ type: MemberRoleEnum, required: true }),
        },
        resolve: (_root, args, context) =>
          context.organizations.invite(signedIn(context), args.organization, {
            email: args.email,
            role: args.role,
          }),
      }),
      revokeInvitation: t.boolean({
        args: {
          organization: t.arg.string({ required: true }),
          id: t.arg.id({ required: true }),
        },
        resolve: async (_root, args, context) => {
          await context.organizations.revokeInvitation(
            signedIn(context),
            args.organization,
            args.id,
          );
          return true;
        },
      }),
      acceptInvitation: t.field({
        type: Organization,
        args: { token: t.arg.string({ required: true }) },
        resolve: (_root, args, context) =>
          context.organizations.acceptInvitation(signedIn(context), args.token),
      }),
      updateMemberRole: t.field({
        type: Member,
        args: {
          organization: t.arg.string({ required: true }),
          accountId: t.arg.id({ required: true }),
          role: t.arg({ type: MemberRoleEnum, required: true }),
        },
        resolve: (_root, args, context) =>
          context.organizations.updateMemberRole(
            signedIn(context),
            args.organization,
            args.accountId,
            args.role,
          ),
      }),
      removeMember: t.boolean({
        args: {
          organization: t.arg.string({ required: true }),
          accountId: t.arg.id({ required: true }),
        },
        resolve: async (_root, args, context) => {
          await context.organizations.removeMember(
            signedIn(context),
            args.organization,
            args.accountId,
          );
          return true;
        },
      }),
      createTenant: t.field({
        type: Tenant,
        description: 'Creates a tenant (desired state) in the organisation; it converges to Ready.',
        args: {
          organization: t.arg.string({ required: true }),
          slug: t.arg.string({ required: true }),
          displayName: t.arg.string({ required: true }),
          plan: t.arg.string({ required: true }),
        },
        resolve: (_root, args, context) =>
          context.organizations.createTenant(signedIn(context), args.organization, {
            slug: args.slug,
            displayName: args.displayName,
            plan: args.plan,
          }),
      }),
      setTenantMemberRole: t.boolean({
        description: 'Grants an organisation member a role on one tenant; null removes the grant.',
        args: {
          tenant: t.arg.string({ required: true }),
          accountId: t.arg.id({ required: true }),
          role: t.arg({ type: MemberRoleEnum, required: false }),
        },
        resolve: async (_root, args, context) => {
          const role: MemberRole | null = args.role ?? null;
          await context.organizations.setTenantRole(
            signedIn(context),
            args.tenant,
            args.accountId,
            role,
          );
          return true;
        },
      }),
      suspendTenant: t.field({
        type: Tenant,
        args: { slug: t.arg.string({ required: true }) },
        resolve: (_root, args, context) => tenantLifecycle(context, args.slug, 'suspend'),
      }),
      resumeTenant: t.field({
        type: Tenant,
        args: { slug: t.arg.string({ required: true }) },
        resolve: (_root, args, context) => tenantLifecycle(context, args.slug, 'resume'),
      }),
      deleteTenant: t.field({
        type: Tenant,
        args: { slug: t.arg.string({ required: true }) },
        resolve: (_root, args, context) => tenantLifecycle(context, args.slug, 'delete'),
      }),
      createApiKey: t.field({
        type: ApiKey,
        args: {
          tenant: t.arg.string({ required: true }),
          name: t.arg.string({ required: true }),
          scopes: t.arg.stringList({ required: false }),
        },
        resolve: async (_root, args, context) => {
          const principal = signedIn(context);
          const name = args.name.trim();
          const scopes = args.scopes ?? ['read'];
          if (name.length === 0 || name.length > 100 || scopes.length > MAX_SCOPES) {
            throw codedError('BAD_USER_INPUT', 'A key has a 1–100 character name and ≤ 16 scopes.');
          }
          const scope = await context.organizations.authorizeTenant(
            principal,
            args.tenant,
            'apiKey.manage',
          );
          const { record, key } = await context.apiKeys.issue(args.tenant, { name, scopes });
          await context.audit?.record(scope.id, {
            actor: actorOf(context),
            action: AUDIT_ACTIONS.apiKeyIssued,
            target: { type: 'api-key', id: record.id },
            outcome: 'success',
            details: { slug: args.tenant, name, prefix: record.prefix, scopes },
          });
          return { id: record.id, name: record.name, prefix: record.prefix, scopes, key };
        },
      }),
    }),
  });

  return builder.toSchema();
}
