import { useState } from 'react';
import { ApiError } from '../api/api-error.ts';
import { authApi } from '../api/auth-api.ts';
import { FormError, SubmitButton, TextField } from '../components/form-controls.tsx';
import { AuthLayout, PageHeading } from '../components/page-layout.tsx';
import { emailProblem, requiredProblem } from '../forms/field-rules.ts';
import { useForm } from '../forms/use-form.ts';
import { Link, Redirect, safeNext, useRouter } from '../routing/router.tsx';
import { useSession } from '../session/session-context.tsx';

export function SignInPage() {
  const { navigate, query } = useRouter();
  const session = useSession();
  const next = safeNext(query);
  const [unverified, setUnverified] = useState<string | undefined>();
  const [resent, setResent] = useState(false);
  const form = useForm<'email' | 'password'>({
    initial: { email: query.get('email') ?? '', password: '' },
    validate: (values) => ({
      email: emailProblem(values.email),
      password: requiredProblem(values.password, 'your password'),
    }),
  });

  const submit = form.onSubmit(async ({ email, password }) => {
    setUnverified(undefined);
    try {
      await session.signIn(email.trim(), password);
      navigate(next, { replace: true });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'email-not-verified') {
        setUnverified(email.trim());
      }
      throw error;
    }
  });

  async function resend(email: string) {
    await authApi.resendVerification(email).catch(() => undefined);
    setResent(true);
  }

  if (session.state.status === 'signed-in') return <Redirect to={next} />;
  return (
    <AuthLayout>
      <PageHeading title="Sign in">Sign in to Citadel</PageHeading>
      <form onSubmit={submit} noValidate aria-label="Sign in">
        <FormError message={form.formError} />
        {unverified !== undefined && (
          <div className="alert alert-info">
            {resent ? (
              <p role="status">We sent a new link to {unverified}.</p>
            ) : (
              <button type="button" className="button" onClick={() => void resend(unverified)}>
                Send a new verification link
              </button>
            )}
          </div>
        )}
        <TextField {...form.bind('email')} label="E-mail" type="email" autoComplete="username" />
        <TextField
          {...form.bind('password')}
          label="Password"
          type="password"
          autoComplete="current-password"
        />
        <div className="form-actions">
          <SubmitButton submitting={form.submitting} busyLabel="Signing in…">
            Sign in
          </SubmitButton>
          <Link to="/reset-password">Forgot your password?</Link>
        </div>
      </form>
      <p className="muted auth-footer">
        New to Citadel?{' '}
        <Link to={next === '/' ? '/sign-up' : `/sign-up?next=${encodeURIComponent(next)}`}>
          Create an account
        </Link>
      </p>
    </AuthLayout>
  );
}
