/** A value `JSON.parse` can return (members may be `undefined`: they are left out). */
export type CanonicalJsonValue =
  | string
  | number
  | boolean
  | null
  | CanonicalJsonValue[]
  | { [key: string]: CanonicalJsonValue | undefined };

/**
 * The canonical JSON text of `value` (RFC 8785 for what JSON.parse produces): members sorted
 * by name in UTF-16 code units, no whitespace, strings and numbers as JSON.stringify writes
 * them. Two requests that differ only in member order or spacing get the same text, so the
 * same digest.
 */
export function canonicalJson(value: CanonicalJsonValue): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError(`canonical JSON has no form for the number ${String(value)}`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  let text = '';
  for (const key of Object.keys(value).sort()) {
    const member = value[key];
    if (member === undefined) continue;
    text += `${text === '' ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `{${text}}`;
}
