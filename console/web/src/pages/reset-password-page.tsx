import { useState } from 'react';
import { authApi } from '../api/auth-api.ts';
import { FormError, SubmitButton, TextField } from '../components/form-controls.tsx';
import { AuthLayout, PageHeading } from '../components/page-layout.tsx';
import { emailProblem, newPasswordProblem, PASSWORD_MIN_LENGTH } from '../forms/field-rules.ts';
import { useForm } from '../forms/use-form.ts';
import { Link, useRouter } from '../routing/router.tsx';

/** Without a token: ask for a reset link. With one (from the mail): choose a new password. */
export function ResetPasswordPage() {
  const { query } = useRouter();
  const token = query.get('token');
  return (
    <AuthLayout>{token === null ? <RequestReset /> : <ConfirmReset token={token} />}</AuthLayout>
  );
}

function RequestReset() {
  const [sentTo, setSentTo] = useState<string | undefined>();
  const form = useForm<'email'>({
    initial: { email: '' },
    validate: (values) => ({ email: emailProblem(values.email) }),
  });
  const submit = form.onSubmit(async ({ email }) => {
    await authApi.requestPasswordReset(email.trim());
    setSentTo(email.trim());
  });
  if (sentTo !== undefined) {
    return (
      <>
        <PageHeading title="Check your e-mail">Check your e-mail</PageHeading>
        <p role="status">
          If <strong>{sentTo}</strong> has a Citadel account, a link to choose a new password is on
          its way. It works once.
        </p>
        <Link to="/sign-in">Back to sign in</Link>
      </>
    );
  }
  return (
    <>
      <PageHeading title="Reset your password">Reset your password</PageHeading>
      <p className="lead">We will e-mail you a link to choose a new one.</p>
      <form onSubmit={submit} noValidate aria-label="Request a password reset">
        <FormError message={form.formError} />
        <TextField {...form.bind('email')} label="E-mail" type="email" autoComplete="email" />
        <div className="form-actions">
          <SubmitButton submitting={form.submitting}>Send the link</SubmitButton>
          <Link to="/sign-in">Back to sign in</Link>
        </div>
      </form>
    </>
  );
}

function ConfirmReset({ token }: { token: string }) {
  const [done, setDone] = useState(false);
  const form = useForm<'password' | 'repeat'>({
    initial: { password: '', repeat: '' },
    validate: (values) => ({
      password: newPasswordProblem(values.password),
      repeat: values.repeat === values.password ? undefined : 'The two passwords differ.',
    }),
    serverFields: { password: 'password' },
    serverCodes: { 'weak-password': 'password' },
  });
  const submit = form.onSubmit(async ({ password }) => {
    await authApi.confirmPasswordReset(token, password);
    setDone(true);
  });
  if (done) {
    return (
      <>
        <PageHeading title="Password changed">Your password is changed</PageHeading>
        <p role="status">You were signed out everywhere. Sign in with the new password.</p>
        <Link to="/sign-in" className="button button-primary">
          Sign in
        </Link>
      </>
    );
  }
  return (
    <>
      <PageHeading title="Choose a new password">Choose a new password</PageHeading>
      <form onSubmit={submit} noValidate aria-label="Choose a new password">
        <FormError message={form.formError} />
        <TextField
          {...form.bind('password')}
          label="New password"
          type="password"
          autoComplete="new-password"
          hint={`At least ${PASSWORD_MIN_LENGTH} characters.`}
        />
        <TextField
          {...form.bind('repeat')}
          label="Repeat the new password"
          type="password"
          autoComplete="new-password"
        />
        <div className="form-actions">
          <SubmitButton submitting={form.submitting}>Change password</SubmitButton>
        </div>
      </form>
    </>
  );
}
