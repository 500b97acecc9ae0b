import { useCallback, useId, useState, type SyntheticEvent } from 'react';
import { ApiError, describeError } from '../api/api-error.ts';

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

export interface FieldBinding {
  id: string;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}

export interface FormOptions<K extends string> {
  initial: Record<K, string>;
  validate: (values: Record<K, string>) => FieldErrors<K>;
  /** Maps the server's field paths (`organization.slug`) to the form's fields. */
  serverFields?: Partial<Record<string, K>>;
  /** Maps error codes about one field (`email-taken`) to that field. */
  serverCodes?: Partial<Record<string, K>>;
}

/** The platform's refusal as messages on the fields it is about (none when it names none). */
function fieldErrorsOf<K extends string>(
  error: unknown,
  { serverFields, serverCodes }: Pick<FormOptions<K>, 'serverFields' | 'serverCodes'>,
): FieldErrors<K> {
  const found: FieldErrors<K> = {};
  if (!(error instanceof ApiError)) return found;
  for (const fieldError of error.fieldErrors) {
    const field = serverFields?.[fieldError.path];
    if (field !== undefined) found[field] = fieldError.message;
  }
  const field = serverCodes?.[error.code] ?? serverCodes?.[error.reason ?? ''];
  if (field !== undefined) found[field] = error.message;
  return found;
}

/**
 * A form's values, per-field messages and submission state. Submitting validates first
 * (and focuses the first field in error); a refusal from the platform lands on the field
 * it names when there is one, otherwise in `formError`.
 */
export function useForm<K extends string>(options: FormOptions<K>) {
  const formId = useId();
  const [values, setValues] = useState(options.initial);
  const [errors, setErrors] = useState<FieldErrors<K>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [submitting, setSubmitting] = useState(false);
  const { validate } = options;

  const fieldId = useCallback((name: K) => `${formId}-${name}`, [formId]);

  function bind(name: K): FieldBinding {
    return {
      id: fieldId(name),
      value: values[name],
      error: errors[name],
      onChange: (value) => {
        setValues((current) => ({ ...current, [name]: value }));
        setErrors((current) => ({ ...current, [name]: undefined }));
      },
    };
  }

  function focusField(name: K): void {
    document.getElementById(fieldId(name))?.focus();
  }

  function showServerError(error: unknown): void {
    const fromServer = fieldErrorsOf(error, options);
    const fields = Object.keys(fromServer) as K[];
    setErrors(fromServer);
    setFormError(fields.length > 0 ? undefined : describeError(error));
    if (fields[0] !== undefined) focusField(fields[0]);
  }

  function onSubmit(action: (values: Record<K, string>) => Promise<void>) {
    return (event: SyntheticEvent) => {
      event.preventDefault();
      if (submitting) return;
      const found = validate(values);
      const invalid = (Object.keys(found) as K[]).filter((name) => found[name] !== undefined);
      setErrors(found);
      setFormError(undefined);
      if (invalid[0] !== undefined) {
        focusField(invalid[0]);
        return;
      }
      setSubmitting(true);
      void action(values)
        .catch(showServerError)
        .finally(() => setSubmitting(false));
    };
  }

  return { values, setValues, bind, onSubmit, submitting, formError, setFormError };
}
