import { redactionPlaceholder, redactText } from './redact-text.ts';

// Keys whose values are credentials whatever they look like.
// Anchored at the end of the key, so `maxTokens` or `secretName` keep their values.
const SENSITIVE_KEY =
  /(?:pass(?:word|wd|phrase)?|secret|token|api[-_]?key|authorization|cookie|private[-_]?key|credentials?)$/i;
const MAX_DEPTH = 32;

/**
 * A copy of a JSON-like value fit for a log line: every string is redacted, values under
 * credential-like keys (`password`, `token`, `authorization`…) are replaced whole, errors
 * become `{ name, message }`, cycles and excessive depth are cut. The input is not changed.
 */
export function scrubForLog(value: unknown): unknown {
  return scrub(value, 0, new WeakSet());
}

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value).text;
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    return scrubObject(value, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function scrubObject(value: object, depth: number, seen: WeakSet<object>): unknown {
  if (Array.isArray(value)) return value.map((item: unknown) => scrub(item, depth + 1, seen));
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message).text };
  }
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    result[key] =
      SENSITIVE_KEY.test(key) && isSecretLike(item)
        ? redactionPlaceholder('SECRET')
        : scrub(item, depth + 1, seen);
  }
  return result;
}

function isSecretLike(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint';
}
