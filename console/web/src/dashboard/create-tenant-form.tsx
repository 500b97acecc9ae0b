import { useState } from 'react';
import { createTenant } from '../api/console-operations.ts';
import { FormError, SubmitButton, TextField } from '../components/form-controls.tsx';
import { PlanPicker } from '../components/plan-picker.tsx';
import { requiredProblem, slugFrom, slugProblem } from '../forms/field-rules.ts';
import { useForm } from '../forms/use-form.ts';

export function CreateTenantForm({
  organization,
  onCreated,
}: {
  organization: string;
  onCreated: () => Promise<void>;
}) {
  const [open, setOpen] = useState(false);
  const [slugEdited, setSlugEdited] = useState(false);
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
    setSlugEdited(false);
    setOpen(false);
    await onCreated();
  });
  const slug = form.bind('slug');

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
      <div className="form-row">
        <TextField
          {...form.bind('displayName')}
          onChange={(name) =>
            form.setValues((current) => ({
              ...current,
              displayName: name,
              slug: slugEdited ? current.slug : slugFrom(name),
            }))
          }
          label="Tenant name"
        />
        <TextField
          {...slug}
          onChange={(value) => {
            setSlugEdited(true);
            slug.onChange(value.toLowerCase());
          }}
          label="Tenant slug"
          hint="Its data plane answers at /t/<slug>/…"
        />
      </div>
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
