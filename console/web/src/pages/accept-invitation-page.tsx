import { useState } from 'react';
import { describeError } from '../api/api-error.ts';
import { acceptInvitation } from '../api/console-operations.ts';
import { AuthLayout, PageHeading } from '../components/page-layout.tsx';
import { Link, useRouter } from '../routing/router.tsx';
import { useSession } from '../session/session-context.tsx';
import { FormError } from '../components/form-controls.tsx';

/**
 * Opened from an invitation mail. Accepting needs a session of the invited address, so a
 * signed-out visitor is sent to sign in (or up) and brought back here.
 */
export function AcceptInvitationPage() {
  const { query, navigate } = useRouter();
  const { state } = useSession();
  const token = query.get('token') ?? '';
  const here = `/accept-invitation?token=${encodeURIComponent(token)}`;
  const [accepting, setAccepting] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function accept() {
    setAccepting(true);
    setError(undefined);
    try {
      const organization = await acceptInvitation(token);
      navigate(`/?joined=${encodeURIComponent(organization.displayName)}`, { replace: true });
    } catch (failure) {
      setError(describeError(failure));
      setAccepting(false);
    }
  }

  return (
    <AuthLayout>
      <PageHeading title="Invitation">You are invited to an organisation</PageHeading>
      {token === '' && (
        <p className="alert alert-error" role="alert">
          This link has no invitation token.
        </p>
      )}
      {state.status === 'signed-out' && (
        <>
          <p>Sign in with the address the invitation was sent to, then accept it.</p>
          <div className="form-actions">
            <Link
              to={`/sign-in?next=${encodeURIComponent(here)}`}
              className="button button-primary"
            >
              Sign in to accept
            </Link>
            <Link to={`/sign-up?next=${encodeURIComponent(here)}`}>Create an account</Link>
          </div>
        </>
      )}
      {state.status === 'signed-in' && token !== '' && (
        <>
          <p>
            Signed in as <strong>{state.account.email}</strong>. Accepting adds you to the
            organisation with the role it invited you for.
          </p>
          <FormError message={error} />
          <div className="form-actions">
            <button
              type="button"
              className="button button-primary"
              disabled={accepting}
              onClick={() => void accept()}
            >
              {accepting ? 'Accepting…' : 'Accept invitation'}
            </button>
            <Link to="/">Not now</Link>
          </div>
        </>
      )}
    </AuthLayout>
  );
}
