import { useState } from 'react';
import { createTenant } from '../api/console-operations.ts';
import { FormError, SubmitButton } from '../components/form-controls.tsx';
import { NameAndSlugFields } from '../components/name-and-slug-fields.tsx';
import { PlanPicker } from '../components/plan-picker.tsx';
import { requiredProblem, slugProblem } from '../forms/field-rules.ts';
import { useForm } from '../forms/use-form.ts';

export function CreateTenantForm({
  organization,
  onCreated,
}: {
  organization: string;
  onCreated: () => Promise<void>;
}) {
  const [open, setOpen] = useState(false);
  const form = useForm<'displayName' | 'slug' | 'plan'>({
    initial: { displayName: '', slug: '', plan: 'starter' },
    validate: (values) => ({
      displayName: requiredProblem(values.displayName, 'a name'),
      slug: slugProblem(values.slug, 'a slug'),
    }),
    serverCodes: { 'invalid-slug': 'slug', 'tenant-exists': 'slug', 'unknown-plan': 'plan' },
  });
  const submit = form.onSubmit(async ({ displayName, slug, plan }) => {
    await createTenant({ organization, slug, displayName: displayName.trim(), plan });
    form.setValues({ displayName: '', slug: '', plan: 'starter' });
    setOpen(false);
    await onCreated();
  });

  if (!open) {
    return (
      <button type="button" className="button" onClick={() => setOpen(true)}>
        New tenant
      </button>
    );
  }
  return (
    <form onSubmit={submit} noValidate className="inline-form" aria-label="Create a tenant">
      <h4>New tenant</h4>
      <FormError message={form.formError} />
      <NameAndSlugFields
        form={form}
        noun="Tenant"
        slugHint="Its data plane answers at /t/<slug>/…"
      />
      <PlanPicker
        name={`plan-${organization}`}
        value={form.values.plan}
        onChange={(plan) => form.bind('plan').onChange(plan)}
      />
      <div className="form-actions">
        <SubmitButton submitting={form.submitting} busyLabel="Creating…">
          Create tenant
        </SubmitButton>
        <button type="button" className="button button-quiet" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
