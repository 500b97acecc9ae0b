import {
  TENANT_SLUG_PROBLEM_MESSAGES,
  findTenantSlugProblem,
} from '@citadel/contracts/tenant-slug';

/**
 * Checks the console runs before sending a form, so mistakes show at once beside the field.
 * The platform decides anyway: its answer is shown the same way when it disagrees.
 */

/** The platform's minimum (control-plane/src/accounts/password-policy.ts, after NIST 800-63B). */
export const PASSWORD_MIN_LENGTH = 12;

export function emailProblem(value: string): string | undefined {
  const email = value.trim();
  if (email === '') return 'Enter your e-mail address.';
  // The server validates properly; this only catches what is plainly not an address.
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
    return 'Enter an e-mail address like ada@example.com.';
  return undefined;
}

export function newPasswordProblem(value: string): string | undefined {
  if (value === '') return 'Choose a password.';
  if (Array.from(value.normalize('NFKC')).length < PASSWORD_MIN_LENGTH) {
    return `Use at least ${PASSWORD_MIN_LENGTH} characters. A few words make a strong password.`;
  }
  return undefined;
}

export function requiredProblem(value: string, what: string): string | undefined {
  return value.trim() === '' ? `Enter ${what}.` : undefined;
}

/** Slugs of organisations and tenants follow the same DNS-label rules. */
export function slugProblem(value: string, what: string): string | undefined {
  if (value === '') return `Choose ${what}.`;
  const problem = findTenantSlugProblem(value);
  return problem === undefined ? undefined : `The slug ${TENANT_SLUG_PROBLEM_MESSAGES[problem]}.`;
}

/** A slug suggested from a display name: `Acme Corporation` → `acme-corporation`. */
export function slugFrom(displayName: string, maxLength = 40): string {
  return displayName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, maxLength)
    .replace(/-+$/, '');
}
