/**
 * A JSON value as `JSON.parse` returns it (members may be `undefined`: they are left out).
 */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };

/**
 * The canonical JSON text of `value` (RFC 8785, JSON Canonicalization Scheme, for values
 * that JSON.parse can produce): object members sorted by their names' UTF-16 code units,
 * no whitespace, numbers and strings as ECMAScript's JSON.stringify writes them (which is
 * what RFC 8785 prescribes). Members whose value is `undefined` are left out, as
 * JSON.stringify does. Non-finite numbers are rejected: they have no JSON form.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return primitive(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const members: string[] = [];
  // The default sort compares UTF-16 code units, exactly as RFC 8785 §3.2.3 asks.
  for (const key of Object.keys(value).sort()) {
    const member = value[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

function primitive(value: string | number | boolean | null): string {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`canonical JSON has no form for the number ${String(value)}`);
  }
  return JSON.stringify(value);
}
