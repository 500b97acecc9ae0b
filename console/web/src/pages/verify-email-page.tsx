import { useEffect, useRef, useState } from 'react';
import { authApi } from '../api/auth-api.ts';
import { ApiError, describeError } from '../api/api-error.ts';
import { AuthLayout, PageHeading } from '../components/page-layout.tsx';
import { Link, useRouter } from '../routing/router.tsx';

type Verification =
  { state: 'verifying' } | { state: 'verified' } | { state: 'failed'; error: unknown };

/** Opened from the verification mail: posts the link's token once. */
export function VerifyEmailPage() {
  const { query } = useRouter();
  const token = query.get('token') ?? '';
  const [result, setResult] = useState<Verification>({ state: 'verifying' });
  // A token works once: never post it twice (React runs effects twice in development).
  const posted = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (posted.current === token) return;
    posted.current = token;
    if (token === '') {
      setResult({ state: 'failed', error: new Error('This link has no token.') });
      return;
    }
    authApi.verifyEmail(token).then(
      () => setResult({ state: 'verified' }),
      (error: unknown) => setResult({ state: 'failed', error }),
    );
  }, [token]);

  return (
    <AuthLayout>
      {result.state === 'verifying' && (
        <>
          <PageHeading title="Confirming your address">Confirming your address…</PageHeading>
          <p role="status">One moment.</p>
        </>
      )}
      {result.state === 'verified' && (
        <>
          <PageHeading title="Address confirmed">Your e-mail address is verified</PageHeading>
          <p>You can sign in now.</p>
          <p>
            <Link to="/sign-in" className="button button-primary">
              Sign in
            </Link>
          </p>
        </>
      )}
      {result.state === 'failed' && <VerificationFailed error={result.error} />}
    </AuthLayout>
  );
}

function VerificationFailed({ error }: { error: unknown }) {
  const expired = error instanceof ApiError && error.code === 'token-expired';
  return (
    <>
      <PageHeading title="Link not valid">
        {expired ? 'This link has expired' : 'This link is not valid'}
      </PageHeading>
      <p className="alert alert-error" role="alert">
        {describeError(error)}
      </p>
      <p>
        Links work once. If your address is confirmed already, <Link to="/sign-in">sign in</Link>;
        otherwise sign in to be offered a new link.
      </p>
    </>
  );
}
