import { useState } from 'react';
import type { Account } from '../api/auth-api.ts';
import { describeError } from '../api/api-error.ts';
import { AppLayout, PageHeading } from '../components/page-layout.tsx';
import { CreateOrganizationForm } from '../dashboard/create-organization-form.tsx';
import { OrganizationPanel } from '../dashboard/organization-panel.tsx';
import { useOrganizations } from '../dashboard/use-organizations.ts';
import { useRouter } from '../routing/router.tsx';
import { useSession } from '../session/session-context.tsx';
import { FormError } from '../components/form-controls.tsx';

function AccountMenu({ account }: { account: Account }) {
  const { signOut } = useSession();
  const { navigate } = useRouter();
  const [error, setError] = useState<string | undefined>();
  async function onSignOut() {
    try {
      await signOut();
      navigate('/sign-in', { replace: true });
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <>
      <span className="account-name" title={account.email}>
        {account.displayName} <span className="muted">{account.email}</span>
      </span>
      <button type="button" className="button" onClick={() => void onSignOut()}>
        Sign out
      </button>
      {error !== undefined && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

/** Home of a signed-in account: its organisations, their tenants and members. */
export function DashboardPage({ account }: { account: Account }) {
  const { query } = useRouter();
  const { organizations, error, reload } = useOrganizations();
  const joined = query.get('joined');
  return (
    <AppLayout account={<AccountMenu account={account} />}>
      <div className="page-title">
        <PageHeading title="Your organisations">Your organisations</PageHeading>
        <CreateOrganizationForm onCreated={reload} />
      </div>
      {joined !== null && (
        <p className="alert alert-success" role="status">
          You joined {joined}.
        </p>
      )}
      <FormError message={error} />
      {organizations === undefined && error === undefined && <p role="status">Loading…</p>}
      {organizations?.length === 0 && (
        <p className="muted">
          You belong to no organisation yet. Create one, or accept an invitation.
        </p>
      )}
      {organizations?.map((organization) => (
        <OrganizationPanel
          key={organization.id}
          organization={organization}
          myAccountId={account.id}
          onChanged={reload}
        />
      ))}
    </AppLayout>
  );
}
