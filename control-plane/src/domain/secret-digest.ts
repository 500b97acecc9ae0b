import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tokens the platform issues carry 256 bits of randomness, so a plain SHA-256 digest is
 * a sound way to store them (no password-stretching needed for high-entropy secrets).
 */
export function digestSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatchesDigest(secret: string, digestHex: string): boolean {
  const actual = Buffer.from(digestSecret(secret), 'hex');
  const expected = Buffer.from(digestHex, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A new secret `<prefix>_<43 base64url chars>`; the prefix lets scanners spot leaked keys. */
export function generateSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}
