import type { Organization } from '../api/console-operations.ts';
import { RoleBadge } from '../components/status-badge.tsx';
import { CreateTenantForm } from './create-tenant-form.tsx';
import { InviteMemberForm, PendingInvitations } from './invitations.tsx';
import { MemberList } from './member-list.tsx';
import { canAdminister } from './roles.ts';
import { TenantCard } from './tenant-card.tsx';

/** One organisation: its tenants, then its members and invitations. */
export function OrganizationPanel({
  organization,
  myAccountId,
  onChanged,
}: {
  organization: Organization;
  myAccountId: string;
  onChanged: () => Promise<void>;
}) {
  const administer = canAdminister(organization.myRole);
  const headingId = `organization-${organization.slug}`;
  return (
    <section className="organization" aria-labelledby={headingId}>
      <header className="organization-header">
        <h2 id={headingId}>{organization.displayName}</h2>
        <p className="muted">
          <code>{organization.slug}</code> · Your role: <RoleBadge role={organization.myRole} />
        </p>
      </header>

      <div className="organization-body">
        <section aria-labelledby={`${headingId}-tenants`} className="panel">
          <header className="panel-header">
            <h3 id={`${headingId}-tenants`}>Tenants</h3>
            {administer && (
              <CreateTenantForm organization={organization.slug} onCreated={onChanged} />
            )}
          </header>
          {organization.tenants.length === 0 ? (
            <p className="muted">No tenants yet.</p>
          ) : (
            <div className="tenant-list">
              {organization.tenants.map((tenant) => (
                <TenantCard key={tenant.slug} tenant={tenant} onChanged={onChanged} />
              ))}
            </div>
          )}
        </section>

        <section aria-labelledby={`${headingId}-members`} className="panel">
          <header className="panel-header">
            <h3 id={`${headingId}-members`}>Members</h3>
          </header>
          <MemberList organization={organization} myAccountId={myAccountId} onChanged={onChanged} />
          <PendingInvitations organization={organization} onChanged={onChanged} />
          {administer && <InviteMemberForm organization={organization} onInvited={onChanged} />}
        </section>
      </div>
    </section>
  );
}
