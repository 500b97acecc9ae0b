import { useState, type Dispatch, type SetStateAction } from 'react';
import { slugFrom } from '../forms/field-rules.ts';
import type { FieldBinding } from '../forms/use-form.ts';
import { TextField } from './form-controls.tsx';

/** The part of a form (`useForm`) with a `displayName` and a `slug` field that this reads. */
interface NameAndSlugForm<K extends string> {
  bind(name: K): FieldBinding;
  setValues: Dispatch<SetStateAction<Record<K, string>>>;
}

/**
 * A name and its slug side by side: the slug follows the name (`slugFrom`) until someone
 * edits it, and is kept lower-case. The "edited" state lives here, so a form that closes
 * after submitting starts afresh.
 */
export function NameAndSlugFields<K extends string>({
  form,
  noun,
  slugHint,
}: {
  form: NameAndSlugForm<K | 'displayName' | 'slug'>;
  /** `Tenant` → "Tenant name", "Tenant slug". */
  noun: string;
  slugHint?: string;
}) {
  const [slugEdited, setSlugEdited] = useState(false);
  const slug = form.bind('slug');
  return (
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
        label={`${noun} name`}
      />
      <TextField
        {...slug}
        onChange={(value) => {
          setSlugEdited(true);
          slug.onChange(value.toLowerCase());
        }}
        label={`${noun} slug`}
        {...(slugHint === undefined ? {} : { hint: slugHint })}
      />
    </div>
  );
}
