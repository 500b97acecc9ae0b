import { useState } from 'react';
import { createOrganization } from '../api/console-operations.ts';
import { FormError, SubmitButton } from '../components/form-controls.tsx';
import { NameAndSlugFields } from '../components/name-and-slug-fields.tsx';
import { requiredProblem, slugProblem } from '../forms/field-rules.ts';
import { useForm } from '../forms/use-form.ts';

export function CreateOrganizationForm({ onCreated }: { onCreated: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const form = useForm<'displayName' | 'slug'>({
    initial: { displayName: '', slug: '' },
    validate: (values) => ({
      displayName: requiredProblem(values.displayName, 'a name'),
      slug: slugProblem(values.slug, 'a slug'),
    }),
    serverCodes: { 'organization-exists': 'slug', 'invalid-input': 'slug' },
  });
  const submit = form.onSubmit(async ({ displayName, slug }) => {
    await createOrganization(slug, displayName.trim());
    form.setValues({ displayName: '', slug: '' });
    setOpen(false);
    await onCreated();
  });

  if (!open) {
    return (
      <button type="button" className="button" onClick={() => setOpen(true)}>
        New organisation
      </button>
    );
  }
  return (
    <form
      onSubmit={submit}
      noValidate
      className="inline-form panel"
      aria-label="Create an organisation"
    >
      <h2>New organisation</h2>
      <FormError message={form.formError} />
      <NameAndSlugFields form={form} noun="Organisation" />
      <div className="form-actions">
        <SubmitButton submitting={form.submitting}>Create organisation</SubmitButton>
        <button type="button" className="button button-quiet" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
