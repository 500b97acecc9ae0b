import type { ReactNode } from 'react';
import type { FieldBinding } from '../forms/use-form.ts';

interface FieldProps extends FieldBinding {
  label: string;
  hint?: ReactNode;
}

function describedBy(id: string, hint: unknown, error: string | undefined): string | undefined {
  const ids = [hint === undefined ? '' : `${id}-hint`, error === undefined ? '' : `${id}-error`];
  const joined = ids.filter((value) => value !== '').join(' ');
  return joined === '' ? undefined : joined;
}

function FieldMessages({ id, hint, error }: { id: string; hint: ReactNode; error?: string }) {
  return (
    <>
      {hint !== undefined && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </>
  );
}

/** A labelled input whose hint and error are announced with it (aria-describedby). */
export function TextField({
  id,
  label,
  hint,
  value,
  error,
  onChange,
  type = 'text',
  autoComplete,
  required = true,
}: FieldProps & {
  type?: 'text' | 'email' | 'password';
  autoComplete?: string;
  required?: boolean;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={value}
        autoComplete={autoComplete}
        required={required}
        aria-invalid={error === undefined ? undefined : true}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(event) => onChange(event.target.value)}
      />
      <FieldMessages id={id} hint={hint} error={error} />
    </div>
  );
}

export interface Choice {
  value: string;
  label: string;
}

export function SelectField({
  id,
  label,
  hint,
  value,
  error,
  onChange,
  choices,
}: FieldProps & { choices: readonly Choice[] }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        aria-invalid={error === undefined ? undefined : true}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(event) => onChange(event.target.value)}
      >
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
      <FieldMessages id={id} hint={hint} error={error} />
    </div>
  );
}

/** A form's own error (not tied to one field), announced when it appears. */
export function FormError({ message }: { message: string | undefined }) {
  if (message === undefined) return null;
  return (
    <p className="alert alert-error" role="alert">
      {message}
    </p>
  );
}

export function SubmitButton({
  submitting,
  children,
  busyLabel,
}: {
  submitting: boolean;
  children: ReactNode;
  busyLabel?: string;
}) {
  return (
    <button type="submit" className="button button-primary" disabled={submitting}>
      {submitting ? (busyLabel ?? 'Working…') : children}
    </button>
  );
}
