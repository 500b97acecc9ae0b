import { useState } from 'react';
import { createApiKey, type IssuedApiKey } from '../api/console-operations.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { FormError, SubmitButton, TextField } from '../components/form-controls.tsx';
import { requiredProblem } from '../forms/field-rules.ts';
import { useForm } from '../forms/use-form.ts';

/**
 * Issues a tenant API key. The key is shown once, here, and only kept in this component's
 * state: the platform stores a digest, and "Done" forgets it.
 */
export function ApiKeyCreator({ tenant }: { tenant: string }) {
  const [open, setOpen] = useState(false);
  const [issued, setIssued] = useState<IssuedApiKey | undefined>();
  const form = useForm<'name'>({
    initial: { name: '' },
    validate: (values) => ({
      name:
        requiredProblem(values.name, 'a name for the key') ??
        (values.name.trim().length > 100 ? 'Use at most 100 characters.' : undefined),
    }),
  });
  const submit = form.onSubmit(async ({ name }) => {
    setIssued(await createApiKey(tenant, name.trim()));
    form.setValues({ name: '' });
  });

  if (issued !== undefined) {
    return (
      <div className="issued-key" role="region" aria-label="New API key">
        <p className="issued-key-warning">
          <strong>Copy this key now.</strong> It is shown only once; Citadel keeps only a digest.
        </p>
        <div className="issued-key-value">
          <code data-testid="issued-api-key">{issued.key}</code>
          <CopyButton text={issued.key} label="Copy key" />
        </div>
        <p className="muted">
          Key “{issued.name}” ({issued.prefix}…), scopes: {issued.scopes.join(', ')}. Send it as{' '}
          <code>Authorization: Bearer …</code> to <code>/t/{tenant}/…</code>.
        </p>
        <button
          type="button"
          className="button"
          onClick={() => {
            setIssued(undefined);
            setOpen(false);
          }}
        >
          Done, I have stored it
        </button>
      </div>
    );
  }
  if (!open) {
    return (
      <button type="button" className="button" onClick={() => setOpen(true)}>
        Create API key
      </button>
    );
  }
  return (
    <form
      onSubmit={submit}
      noValidate
      className="inline-form"
      aria-label={`Create an API key for ${tenant}`}
    >
      <FormError message={form.formError} />
      <TextField {...form.bind('name')} label="Key name" hint="What uses it, e.g. “CI pipeline”." />
      <div className="form-actions">
        <SubmitButton submitting={form.submitting}>Create key</SubmitButton>
        <button type="button" className="button button-quiet" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
