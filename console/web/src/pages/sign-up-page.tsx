import { useState } from 'react';
import { authApi } from '../api/auth-api.ts';
import { FormError, SubmitButton, TextField } from '../components/form-controls.tsx';
import { AuthLayout, PageHeading } from '../components/page-layout.tsx';
import { PlanPicker } from '../components/plan-picker.tsx';
import {
  emailProblem,
  newPasswordProblem,
  PASSWORD_MIN_LENGTH,
  requiredProblem,
  slugFrom,
  slugProblem,
} from '../forms/field-rules.ts';
import { useForm } from '../forms/use-form.ts';
import { Link, useRouter } from '../routing/router.tsx';

type SignUpField =
  | 'displayName'
  | 'email'
  | 'password'
  | 'organizationName'
  | 'organizationSlug'
  | 'tenantSlug'
  | 'plan';

/** Sign-up: the account, its organisation and the organisation's first tenant at once. */
export function SignUpPage() {
  const { navigate, query } = useRouter();
  // Slugs follow the organisation's name until the person edits them.
  const [slugsEdited, setSlugsEdited] = useState({ organization: false, tenant: false });
  const form = useForm<SignUpField>({
    initial: {
      displayName: '',
      email: query.get('email') ?? '',
      password: '',
      organizationName: '',
      organizationSlug: '',
      tenantSlug: '',
      plan: 'starter',
    },
    validate: (values) => ({
      displayName: requiredProblem(values.displayName, 'your name'),
      email: emailProblem(values.email),
      password: newPasswordProblem(values.password),
      organizationName: requiredProblem(values.organizationName, 'the organisation’s name'),
      organizationSlug: slugProblem(values.organizationSlug, 'a slug for the organisation'),
      tenantSlug: slugProblem(values.tenantSlug, 'a slug for the tenant'),
    }),
    serverFields: {
      displayName: 'displayName',
      email: 'email',
      password: 'password',
      'organization.displayName': 'organizationName',
      'organization.slug': 'organizationSlug',
      'tenant.slug': 'tenantSlug',
      'tenant.plan': 'plan',
    },
    serverCodes: {
      'email-taken': 'email',
      'weak-password': 'password',
      'invalid-organization-slug': 'organizationSlug',
      'organization-slug-taken': 'organizationSlug',
      'invalid-slug': 'tenantSlug',
      'tenant-exists': 'tenantSlug',
      'unknown-plan': 'plan',
    },
  });
  const { values, setValues, bind } = form;
  const planError = bind('plan').error;

  function onOrganizationName(name: string) {
    const suggested = slugFrom(name);
    setValues((current) => ({
      ...current,
      organizationName: name,
      organizationSlug: slugsEdited.organization ? current.organizationSlug : suggested,
      tenantSlug: slugsEdited.tenant ? current.tenantSlug : suggested,
    }));
  }

  function onSlug(which: 'organization' | 'tenant', field: SignUpField) {
    const binding = bind(field);
    return {
      ...binding,
      onChange: (value: string) => {
        setSlugsEdited((current) => ({ ...current, [which]: true }));
        binding.onChange(value.toLowerCase());
      },
    };
  }

  const submit = form.onSubmit(async (input) => {
    const email = input.email.trim();
    await authApi.signUp({
      email,
      password: input.password,
      displayName: input.displayName.trim(),
      organization: { slug: input.organizationSlug, displayName: input.organizationName.trim() },
      tenant: { slug: input.tenantSlug, plan: input.plan },
    });
    navigate(`/check-email?email=${encodeURIComponent(email)}`);
  });

  return (
    <AuthLayout wide>
      <PageHeading title="Create your account">Create your Citadel account</PageHeading>
      <p className="lead">
        One form: your account, your organisation and its first tenant — an isolated data plane of
        its own.
      </p>
      <form onSubmit={submit} noValidate aria-label="Sign up">
        <FormError message={form.formError} />
        <div className="form-columns">
          <section aria-labelledby="signup-you">
            <h2 id="signup-you">You</h2>
            <TextField {...bind('displayName')} label="Your name" autoComplete="name" />
            <TextField {...bind('email')} label="Work e-mail" type="email" autoComplete="email" />
            <TextField
              {...bind('password')}
              label="Password"
              type="password"
              autoComplete="new-password"
              hint={`At least ${PASSWORD_MIN_LENGTH} characters.`}
            />
          </section>
          <section aria-labelledby="signup-organization">
            <h2 id="signup-organization">Your organisation</h2>
            <TextField
              {...bind('organizationName')}
              onChange={onOrganizationName}
              label="Organisation name"
              autoComplete="organization"
            />
            <TextField
              {...onSlug('organization', 'organizationSlug')}
              label="Organisation slug"
              hint="Lower-case letters, digits and hyphens; used in URLs."
            />
            <TextField
              {...onSlug('tenant', 'tenantSlug')}
              label="First tenant slug"
              hint={`Your data plane answers at /t/${values.tenantSlug || 'slug'}/…`}
            />
          </section>
        </div>
        <PlanPicker
          name="plan"
          value={values.plan}
          onChange={(plan) => bind('plan').onChange(plan)}
        />
        {planError !== undefined && (
          <p className="field-error" role="alert">
            {planError}
          </p>
        )}
        <div className="form-actions">
          <SubmitButton submitting={form.submitting} busyLabel="Creating your account…">
            Create account
          </SubmitButton>
          <p className="muted">
            Already have an account? <Link to="/sign-in">Sign in</Link>
          </p>
        </div>
      </form>
    </AuthLayout>
  );
}
