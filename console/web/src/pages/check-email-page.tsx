import { useState } from 'react';
import { authApi } from '../api/auth-api.ts';
import { describeError } from '../api/api-error.ts';
import { FormError } from '../components/form-controls.tsx';
import { AuthLayout, PageHeading } from '../components/page-layout.tsx';
import { Link, useRouter } from '../routing/router.tsx';

/** After sign-up: where the verification link went, and a way to ask for another. */
export function CheckEmailPage() {
  const { query } = useRouter();
  const email = query.get('email') ?? '';
  const [state, setState] = useState<{ sending: boolean; message?: string; error?: string }>({
    sending: false,
  });

  async function resend() {
    setState({ sending: true });
    try {
      await authApi.resendVerification(email);
      setState({ sending: false, message: `We sent a new link to ${email}.` });
    } catch (error) {
      setState({ sending: false, error: describeError(error) });
    }
  }

  return (
    <AuthLayout>
      <PageHeading title="Check your e-mail">Check your e-mail</PageHeading>
      <p>
        We sent a link to <strong>{email === '' ? 'your address' : email}</strong>. Open it to
        confirm your address; then sign in. Your tenant is already being provisioned.
      </p>
      <p className="muted">
        Running the platform on your machine? Mail is written to <code>.citadel/mail/outbox/</code>{' '}
        unless an SMTP server is configured.
      </p>
      {state.message !== undefined && (
        <p className="alert alert-success" role="status">
          {state.message}
        </p>
      )}
      <FormError message={state.error} />
      <div className="form-actions">
        {email !== '' && (
          <button
            type="button"
            className="button"
            disabled={state.sending}
            onClick={() => void resend()}
          >
            {state.sending ? 'Sending…' : 'Send the link again'}
          </button>
        )}
        <Link to="/sign-in">Go to sign in</Link>
      </div>
    </AuthLayout>
  );
}
