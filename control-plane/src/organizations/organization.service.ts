import { createHash, randomBytes } from 'node:crypto';
import {
  TENANT_SLUG_PROBLEM_MESSAGES,
  findTenantSlugProblem,
  type TenantResource,
} from '@citadel/contracts';
import type { CitadelAction } from '@citadel/data-plane-runtime';
import {
  findTenantScope,
  type AccessControl,
  type ApiPrincipal,
  type TenantScope,
} from '../access/access-control.ts';
import { TenantError } from '../domain/tenant-error.ts';
import { asMemberRole, type MemberRole } from '../access/member-roles.ts';
import { AUDIT_ACTIONS, type AuditEvent } from '../audit/audit-entry.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { TenantService } from '../domain/tenant.service.ts';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';
import { OrganizationError } from './organization-error.ts';

/** How long an invitation can be accepted. */
const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const MAX_DISPLAY_NAME = 200;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface OrganizationView {
  id: string;
  slug: string;
  displayName: string;
  createdAt: Date;
}

export interface MemberView {
  accountId: string;
  email: string;
  displayName: string;
  role: MemberRole;
  joinedAt: Date;
}

export interface InvitationView {
  id: string;
  email: string;
  role: MemberRole;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

/** What an invitation e-mail needs; the token appears only in the mail. */
export interface InvitationMail {
  to: string;
  organizationName: string;
  invitedBy: string;
  role: MemberRole;
  token: string;
}

export interface OrganizationServiceDeps {
  prisma: PrismaClient;
  access: AccessControl;
  tenants: Pick<TenantService, 'create' | 'get'>;
  audit?: Pick<AuditRecorder, 'record'> | undefined;
  sendInvitation(mail: InvitationMail): Promise<void>;
  now?: () => Date;
}

function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

function requireAccount(principal: ApiPrincipal): Extract<ApiPrincipal, { type: 'account' }> {
  if (principal.type !== 'account') {
    throw new OrganizationError('not-an-account', 'Only a console account can do this.');
  }
  return principal;
}

function checkDisplayName(displayName: string): string {
  const trimmed = displayName.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_DISPLAY_NAME) {
    throw new OrganizationError(
      'invalid-input',
      `A display name has 1 to ${MAX_DISPLAY_NAME} characters.`,
      { field: 'displayName' },
    );
  }
  return trimmed;
}

function checkSlug(slug: string): void {
  const reason = findTenantSlugProblem(slug);
  if (reason) {
    throw new OrganizationError(
      'invalid-input',
      `Slug "${slug}" ${TENANT_SLUG_PROBLEM_MESSAGES[reason]}.`,
      { field: 'slug', reason },
    );
  }
}

function checkEmail(email: string): string {
  const trimmed = email.trim();
  if (trimmed.length > 254 || !EMAIL_PATTERN.test(trimmed)) {
    throw new OrganizationError('invalid-input', 'That is not an e-mail address.', {
      field: 'email',
    });
  }
  return trimmed;
}

/**
 * Organisations, their members and invitations, and the tenants they own. Every call is
 * decided by Cedar through the access control (console policies for the organisation, the
 * tenant's own policies for one tenant); memberships are read from the database per call.
 */
export function createOrganizationService(deps: OrganizationServiceDeps) {
  const { prisma, access } = deps;
  const now = deps.now ?? (() => new Date());

  async function requireOrganization(slug: string) {
    const organization = await prisma.organization.findUnique({ where: { slug } });
    if (!organization) {
      throw new OrganizationError('organization-not-found', `No organisation "${slug}".`, {
        slug,
      });
    }
    return organization;
  }

  async function requireTenantScope(slug: string): Promise<TenantScope> {
    const scope = await findTenantScope(prisma, slug);
    if (!scope) throw new TenantError('tenant-not-found', `No tenant "${slug}".`, { slug });
    return scope;
  }

  /** Records a membership change in every tenant of the organisation (it changes access there). */
  async function auditOrganization(organizationId: string, event: AuditEvent): Promise<void> {
    if (!deps.audit) return;
    const tenants = await prisma.tenant.findMany({
      where: { organizationId },
      select: { id: true },
    });
    for (const tenant of tenants) await deps.audit.record(tenant.id, event);
  }

  function actorOf(principal: ApiPrincipal): AuditEvent['actor'] {
    return principal.type === 'account'
      ? { type: 'account', id: principal.accountId }
      : { type: 'operator' };
  }

  async function ownerCount(organizationId: string): Promise<number> {
    return prisma.organizationMember.count({ where: { organizationId, role: 'owner' } });
  }

  async function memberOf(organizationId: string, accountId: string) {
    const member = await prisma.organizationMember.findUnique({
      where: { organizationId_accountId: { organizationId, accountId } },
    });
    if (!member) {
      throw new OrganizationError('member-not-found', 'No such member of this organisation.', {
        accountId,
      });
    }
    return member;
  }

  return {
    /**
     * Records an account's own event (a sign-in) in the log of every tenant it can reach:
     * the tenants of its organisations and those granted to it alone.
     */
    async auditAccountEvent(accountId: string, event: AuditEvent): Promise<void> {
      if (!deps.audit) return;
      const tenants = await prisma.tenant.findMany({
        where: {
          OR: [
            { organization: { members: { some: { accountId } } } },
            { members: { some: { accountId } } },
          ],
        },
        select: { id: true },
      });
      for (const tenant of tenants) await deps.audit.record(tenant.id, event);
    },

    /** The organisations the account belongs to, with its role in each. */
    async listMine(
      principal: ApiPrincipal,
    ): Promise<Array<OrganizationView & { role: MemberRole }>> {
      const account = requireAccount(principal);
      const memberships = await prisma.organizationMember.findMany({
        where: { accountId: account.accountId },
        include: { organization: true },
        orderBy: { createdAt: 'asc' },
      });
      return memberships.flatMap((membership) => {
        const role = asMemberRole(membership.role);
        return role === undefined ? [] : [{ ...membership.organization, role }];
      });
    },

    async get(principal: ApiPrincipal, slug: string): Promise<OrganizationView> {
      const organization = await requireOrganization(slug);
      await access.requireOrganization(principal, organization.id, 'organization.read');
      return organization;
    },

    /** The caller's role in the organisation (undefined for the operator or a non-member). */
    async roleOf(principal: ApiPrincipal, organizationId: string) {
      if (principal.type !== 'account') return undefined;
      return access.organizationRoleOf(principal.accountId, organizationId);
    },

    /** Any signed-in account may found an organisation; it becomes its owner. */
    async create(
      principal: ApiPrincipal,
      input: { slug: string; displayName: string },
    ): Promise<OrganizationView> {
      const account = requireAccount(principal);
      checkSlug(input.slug);
      const displayName = checkDisplayName(input.displayName);
      try {
        return await prisma.organization.create({
          data: {
            slug: input.slug,
            displayName,
            members: { create: { accountId: account.accountId, role: 'owner' } },
          },
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new OrganizationError(
            'organization-exists',
            `An organisation "${input.slug}" exists already.`,
            { slug: input.slug },
          );
        }
        throw error;
      }
    },

    async update(
      principal: ApiPrincipal,
      slug: string,
      input: { displayName: string },
    ): Promise<OrganizationView> {
      const organization = await requireOrganization(slug);
      await access.requireOrganization(principal, organization.id, 'organization.update');
      return prisma.organization.update({
        where: { id: organization.id },
        data: { displayName: checkDisplayName(input.displayName) },
      });
    },

    async members(principal: ApiPrincipal, slug: string): Promise<MemberView[]> {
      const organization = await requireOrganization(slug);
      await access.requireOrganization(principal, organization.id, 'member.read');
      const rows = await prisma.organizationMember.findMany({
        where: { organizationId: organization.id },
        include: { account: true },
        orderBy: { createdAt: 'asc' },
      });
      return rows.flatMap((row) => {
        const role = asMemberRole(row.role);
        if (role === undefined) return [];
        return [
          {
            accountId: row.accountId,
            email: row.account.email,
            displayName: row.account.displayName,
            role,
            joinedAt: row.createdAt,
          },
        ];
      });
    },

    /**
     * Changes a member's role. Cedar decides with the role granted and the member's current
     * one in the context (only owners make or unmake owners); the last owner stays an owner.
     */
    async updateMemberRole(
      principal: ApiPrincipal,
      slug: string,
      accountId: string,
      role: MemberRole,
    ): Promise<MemberView> {
      const organization = await requireOrganization(slug);
      const member = await memberOf(organization.id, accountId);
      await access.requireOrganization(principal, organization.id, 'member.manage', {
        grantsRole: role,
        targetRole: member.role,
      });
      const updated = await prisma.$transaction(async (tx) => {
        const changed = await tx.organizationMember.update({
          where: { organizationId_accountId: { organizationId: organization.id, accountId } },
          data: { role },
          include: { account: true },
        });
        // Checked inside the transaction: two owners demoting each other at once cannot
        // both succeed (the second sees the first's change and fails).
        if (member.role === 'owner' && role !== 'owner') {
          await tx.$queryRaw`SELECT 1 FROM organization_members WHERE organization_id = ${organization.id}::uuid FOR UPDATE`;
          const owners = await tx.organizationMember.count({
            where: { organizationId: organization.id, role: 'owner' },
          });
          if (owners === 0) {
            throw new OrganizationError('last-owner', 'An organisation keeps at least one owner.');
          }
        }
        return changed;
      });
      await auditOrganization(organization.id, {
        actor: actorOf(principal),
        action: AUDIT_ACTIONS.memberRoleChanged,
        target: { type: 'account', id: accountId },
        outcome: 'success',
        details: { organization: slug, from: member.role, to: role },
      });
      return {
        accountId,
        email: updated.account.email,
        displayName: updated.account.displayName,
        role,
        joinedAt: updated.createdAt,
      };
    },

    async removeMember(principal: ApiPrincipal, slug: string, accountId: string): Promise<void> {
      const organization = await requireOrganization(slug);
      const member = await memberOf(organization.id, accountId);
      await access.requireOrganization(principal, organization.id, 'member.manage', {
        targetRole: member.role,
      });
      await prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM organization_members WHERE organization_id = ${organization.id}::uuid FOR UPDATE`;
        if (member.role === 'owner' && (await ownerCount(organization.id)) <= 1) {
          throw new OrganizationError('last-owner', 'An organisation keeps at least one owner.');
        }
        await tx.organizationMember.delete({
          where: { organizationId_accountId: { organizationId: organization.id, accountId } },
        });
        // Tenant grants come with the organisation membership and go with it.
        await tx.tenantMember.deleteMany({
          where: { accountId, tenant: { organizationId: organization.id } },
        });
      });
      await auditOrganization(organization.id, {
        actor: actorOf(principal),
        action: AUDIT_ACTIONS.memberRemoved,
        target: { type: 'account', id: accountId },
        outcome: 'success',
        details: { organization: slug, role: member.role },
      });
    },

    async invite(
      principal: ApiPrincipal,
      slug: string,
      input: { email: string; role: MemberRole },
    ): Promise<InvitationView> {
      const organization = await requireOrganization(slug);
      await access.requireOrganization(principal, organization.id, 'member.manage', {
        grantsRole: input.role,
      });
      const email = checkEmail(input.email);
      const emailKey = email.toLowerCase();
      const existing = await prisma.organizationMember.findFirst({
        where: { organizationId: organization.id, account: { emailKey } },
      });
      if (existing) {
        throw new OrganizationError('already-member', `${email} is a member already.`, {
          email,
        });
      }
      const token = randomBytes(32).toString('base64url');
      const invitedById = principal.type === 'account' ? principal.accountId : null;
      const invitation = await prisma.organizationInvitation.create({
        data: {
          organizationId: organization.id,
          email,
          emailKey,
          role: input.role,
          invitedById,
          tokenDigest: digest(token),
          expiresAt: new Date(now().getTime() + INVITATION_TTL_MS),
        },
      });
      const inviter = principal.type === 'account' ? principal.email : 'the platform operator';
      await deps.sendInvitation({
        to: email,
        organizationName: organization.displayName,
        invitedBy: inviter,
        role: input.role,
        token,
      });
      await auditOrganization(organization.id, {
        actor: actorOf(principal),
        action: AUDIT_ACTIONS.memberInvited,
        target: { type: 'invitation', id: invitation.id },
        outcome: 'success',
        details: { organization: slug, email, role: input.role },
      });
      return { ...invitation, role: input.role };
    },

    async invitations(principal: ApiPrincipal, slug: string): Promise<InvitationView[]> {
      const organization = await requireOrganization(slug);
      await access.requireOrganization(principal, organization.id, 'member.read');
      const rows = await prisma.organizationInvitation.findMany({
        where: { organizationId: organization.id },
        orderBy: { createdAt: 'desc' },
        take: 200,
      });
      return rows.flatMap((row) => {
        const role = asMemberRole(row.role);
        return role === undefined ? [] : [{ ...row, role }];
      });
    },

    async revokeInvitation(principal: ApiPrincipal, slug: string, id: string): Promise<void> {
      const organization = await requireOrganization(slug);
      await access.requireOrganization(principal, organization.id, 'member.manage');
      const revoked = await prisma.organizationInvitation.updateMany({
        where: { id, organizationId: organization.id, acceptedAt: null, revokedAt: null },
        data: { revokedAt: now() },
      });
      if (revoked.count === 0) {
        throw new OrganizationError('invitation-invalid', 'No open invitation with that id.');
      }
    },

    /**
     * Accepts an invitation with the token from its e-mail: single use, unexpired, and for the
     * signed-in account's own (verified) address.
     */
    async acceptInvitation(principal: ApiPrincipal, token: string): Promise<OrganizationView> {
      const account = requireAccount(principal);
      const at = now();
      const invitation = await prisma.organizationInvitation.findUnique({
        where: { tokenDigest: digest(token) },
        include: { organization: true },
      });
      const open =
        invitation?.acceptedAt === null &&
        invitation.revokedAt === null &&
        invitation.expiresAt > at;
      if (!invitation || !open) {
        throw new OrganizationError(
          'invitation-invalid',
          'This invitation is unknown, used, revoked or expired.',
        );
      }
      if (invitation.emailKey !== account.email.toLowerCase()) {
        throw new OrganizationError(
          'invitation-email-mismatch',
          'This invitation was sent to another e-mail address.',
        );
      }
      await prisma.$transaction(async (tx) => {
        const claimed = await tx.organizationInvitation.updateMany({
          where: { id: invitation.id, acceptedAt: null, revokedAt: null },
          data: { acceptedAt: at },
        });
        if (claimed.count === 0) {
          throw new OrganizationError('invitation-invalid', 'This invitation was used already.');
        }
        const existing = await tx.organizationMember.findUnique({
          where: {
            organizationId_accountId: {
              organizationId: invitation.organizationId,
              accountId: account.accountId,
            },
          },
        });
        if (existing) {
          throw new OrganizationError('already-member', 'You are a member already.');
        }
        await tx.organizationMember.create({
          data: {
            organizationId: invitation.organizationId,
            accountId: account.accountId,
            role: invitation.role,
          },
        });
      });
      await auditOrganization(invitation.organizationId, {
        actor: actorOf(principal),
        action: AUDIT_ACTIONS.memberJoined,
        target: { type: 'account', id: account.accountId },
        outcome: 'success',
        details: { organization: invitation.organization.slug, role: invitation.role },
      });
      return invitation.organization;
    },

    /** The organisation's tenants. */
    async tenants(principal: ApiPrincipal, slug: string): Promise<TenantResource[]> {
      const organization = await requireOrganization(slug);
      await access.requireOrganization(principal, organization.id, 'organization.read');
      const rows = await prisma.tenant.findMany({
        where: { organizationId: organization.id },
        select: { slug: true },
        orderBy: { createdAt: 'asc' },
      });
      return Promise.all(rows.map((row) => deps.tenants.get(row.slug)));
    },

    async createTenant(
      principal: ApiPrincipal,
      organizationSlug: string,
      input: { slug: string; displayName: string; plan: string },
    ): Promise<TenantResource> {
      const organization = await requireOrganization(organizationSlug);
      await access.requireOrganization(principal, organization.id, 'tenant.create');
      const tenant = await deps.tenants.create({ ...input, organizationId: organization.id });
      await deps.audit?.record(tenant.metadata.uid, {
        actor: actorOf(principal),
        action: AUDIT_ACTIONS.tenantCreated,
        target: { type: 'tenant', id: tenant.metadata.uid },
        outcome: 'success',
        details: { slug: tenant.metadata.name, organization: organizationSlug },
      });
      return tenant;
    },

    /** Reads one tenant, if the caller may. */
    async tenant(principal: ApiPrincipal, slug: string): Promise<TenantResource> {
      const scope = await requireTenantScope(slug);
      await access.requireTenant(principal, scope, 'tenant.read');
      return deps.tenants.get(slug);
    },

    /** Lets `action` on the tenant through if Cedar allows it, or throws AccessDeniedError. */
    async authorizeTenant(
      principal: ApiPrincipal,
      slug: string,
      action: CitadelAction,
    ): Promise<TenantScope> {
      const scope = await requireTenantScope(slug);
      await access.requireTenant(principal, scope, action);
      return scope;
    },

    /** The caller's effective role on a tenant (organisation role or a tenant grant). */
    async tenantRoleOf(principal: ApiPrincipal, slug: string) {
      if (principal.type !== 'account') return undefined;
      return access.tenantRoleOf(principal.accountId, await requireTenantScope(slug));
    },

    /**
     * Grants an organisation member a role on one tenant beyond their organisation role, or
     * removes that grant (`role` null). Decided by the tenant's own policies.
     */
    async setTenantRole(
      principal: ApiPrincipal,
      tenantSlug: string,
      accountId: string,
      role: MemberRole | null,
    ): Promise<void> {
      const scope = await requireTenantScope(tenantSlug);
      const current = await prisma.tenantMember.findUnique({
        where: { tenantId_accountId: { tenantId: scope.id, accountId } },
      });
      await access.requireTenant(principal, scope, 'member.manage', {
        ...(role === null ? {} : { grantsRole: role }),
        ...(current ? { targetRole: current.role } : {}),
      });
      if (scope.organizationId === null) {
        throw new OrganizationError('member-not-found', 'This tenant has no organisation.');
      }
      await memberOf(scope.organizationId, accountId);
      if (role === null) {
        await prisma.tenantMember.deleteMany({ where: { tenantId: scope.id, accountId } });
      } else {
        await prisma.tenantMember.upsert({
          where: { tenantId_accountId: { tenantId: scope.id, accountId } },
          create: { tenantId: scope.id, accountId, role },
          update: { role },
        });
      }
      await deps.audit?.record(scope.id, {
        actor: actorOf(principal),
        action: AUDIT_ACTIONS.memberRoleChanged,
        target: { type: 'account', id: accountId },
        outcome: 'success',
        details: { tenant: tenantSlug, from: current?.role ?? null, to: role },
      });
    },
  };
}

export type OrganizationService = ReturnType<typeof createOrganizationService>;
