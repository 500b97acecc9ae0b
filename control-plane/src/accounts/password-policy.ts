/**
 * The console's password rules, after NIST SP 800-63B §5.1.1.2: length is what makes a
 * password strong, so there are no composition rules (no "one digit, one symbol"), no
 * forced rotation, and any printable Unicode is allowed. Length counts Unicode code points
 * of the NFKC-normalised text, as the hasher sees it.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/** Why a password is refused. */
export type PasswordPolicyViolation = 'too-short' | 'too-long' | 'equals-email';

export const PASSWORD_POLICY_MESSAGES: Record<PasswordPolicyViolation, string> = {
  'too-short': `The password must be at least ${PASSWORD_MIN_LENGTH} characters long.`,
  'too-long': `The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`,
  'equals-email': 'The password must not be the e-mail address.',
};

/** The first rule `password` breaks for the account of `email`, or undefined when it is fine. */
export function findPasswordPolicyViolation(
  password: string,
  email: string,
): PasswordPolicyViolation | undefined {
  const normalized = password.normalize('NFKC');
  // Code points, as NIST counts: an emoji or a CJK character is one, not two UTF-16 units.
  const length = Array.from(normalized).length;
  if (length < PASSWORD_MIN_LENGTH) return 'too-short';
  if (length > PASSWORD_MAX_LENGTH) return 'too-long';
  if (normalized.trim().toLowerCase() === email.trim().toLowerCase()) return 'equals-email';
  return undefined;
}
