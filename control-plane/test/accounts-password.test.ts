import { describe, expect, it } from 'vitest';
import {
  ARGON2ID_PARAMETERS,
  createPasswordHasher,
  decodePasswordHash,
  runtimeArgon2,
} from '../src/accounts/password-hasher.ts';
import { findPasswordPolicyViolation } from '../src/accounts/password-policy.ts';

/** From the reference implementation's test suite (phc-winner-argon2, src/test.c). */
const REFERENCE_ARGON2ID =
  '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc';
/** RFC 7914 §12: scrypt("password", "NaCl", N=1024, r=8, p=16, dkLen=64), as a PHC string. */
const RFC7914_SCRYPT = `$scrypt$ln=10,r=8,p=16$${Buffer.from('NaCl').toString('base64').replace(/=+$/, '')}$${Buffer.from(
  'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
  'hex',
)
  .toString('base64')
  .replace(/=+$/, '')}`;

const hasher = createPasswordHasher();
const scryptOnly = createPasswordHasher({ argon2: undefined });

describe('password hasher', () => {
  it('runs on a Node with crypto.argon2 (24.7+)', () => {
    expect(runtimeArgon2()).toBeTypeOf('function');
  });

  it('hashes with argon2id and the OWASP parameters, 16-byte salt, 32-byte tag', async () => {
    const encoded = await hasher.hash('correct horse battery staple');
    expect(encoded).toMatch(
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
    const decoded = decodePasswordHash(encoded);
    expect(decoded?.salt).toHaveLength(16);
    expect(decoded?.hash).toHaveLength(32);
    expect(await hasher.verify('correct horse battery staple', encoded)).toBe(true);
    expect(await hasher.verify('correct horse battery stable', encoded)).toBe(false);
    expect(hasher.needsRehash(encoded)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hasher.hash('same password here')).not.toBe(
      await hasher.hash('same password here'),
    );
  });

  it('verifies hashes made by the argon2 reference implementation', async () => {
    expect(await hasher.verify('password', REFERENCE_ARGON2ID)).toBe(true);
    expect(await hasher.verify('passwore', REFERENCE_ARGON2ID)).toBe(false);
    // 64 MiB is more than today's 19 MiB, but its 8-byte salt is less than today's 16.
    expect(hasher.needsRehash(REFERENCE_ARGON2ID)).toBe(true);
  });

  it('verifies the RFC 7914 scrypt test vector and upgrades scrypt hashes to argon2id', async () => {
    expect(await hasher.verify('password', RFC7914_SCRYPT)).toBe(true);
    expect(await hasher.verify('Password', RFC7914_SCRYPT)).toBe(false);
    expect(hasher.needsRehash(RFC7914_SCRYPT)).toBe(true);
  });

  it('asks for a rehash when the parameters are weaker than today', async () => {
    const weak = createPasswordHasher({
      argon2Parameters: { ...ARGON2ID_PARAMETERS, memoryKib: 4_096, passes: 1 },
    });
    const encoded = await weak.hash('an older password');
    expect(encoded).toContain('$m=4096,t=1,p=1$');
    expect(await hasher.verify('an older password', encoded)).toBe(true);
    expect(hasher.needsRehash(encoded)).toBe(true);
  });

  it('treats malformed or foreign hashes as a failed match, never as an error', async () => {
    const bad = [
      '',
      'plaintext',
      '$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
      '$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
      '$argon2id$v=19$m=65536,t=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
      '$argon2id$v=19$m=65536,t=2,p=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
      '$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
      '$argon2id$v=19$m=65536,t=2,p=1$not*base64$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
      '$scrypt$ln=30,r=8,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    ];
    for (const encoded of bad) {
      expect(await hasher.verify('password', encoded)).toBe(false);
      expect(hasher.needsRehash(encoded)).toBe(true);
    }
  });

  it('compares passwords after Unicode normalisation (NFKC)', async () => {
    const composed = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect(await hasher.verify(decomposed, await hasher.hash(composed))).toBe(true);
  });

  it('falls back to scrypt (N=2^17, r=8, p=1) where crypto.argon2 is missing', async () => {
    const encoded = await scryptOnly.hash('a password on node 22');
    expect(encoded).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await scryptOnly.verify('a password on node 22', encoded)).toBe(true);
    expect(await scryptOnly.verify('a password on node 23', encoded)).toBe(false);
    expect(scryptOnly.needsRehash(encoded)).toBe(false);
    // The same hash is read by a runtime with argon2, which upgrades it.
    expect(await hasher.verify('a password on node 22', encoded)).toBe(true);
    expect(hasher.needsRehash(encoded)).toBe(true);
  });

  it('cannot verify argon2id without crypto.argon2, and says no rather than failing', async () => {
    expect(await scryptOnly.verify('password', REFERENCE_ARGON2ID)).toBe(false);
    expect(scryptOnly.needsRehash(REFERENCE_ARGON2ID)).toBe(false);
  });
});

describe('password policy (NIST SP 800-63B)', () => {
  const email = 'Ada@Example.com';

  it('asks for 12 to 256 characters and nothing else', () => {
    expect(findPasswordPolicyViolation('a'.repeat(11), email)).toBe('too-short');
    expect(findPasswordPolicyViolation('a'.repeat(12), email)).toBeUndefined();
    expect(findPasswordPolicyViolation('all lower case words', email)).toBeUndefined();
    expect(findPasswordPolicyViolation('x'.repeat(256), email)).toBeUndefined();
    expect(findPasswordPolicyViolation('x'.repeat(257), email)).toBe('too-long');
  });

  it('counts code points, not UTF-16 units', () => {
    // Six emoji are twelve UTF-16 units but six characters.
    expect(findPasswordPolicyViolation('🔐'.repeat(6), email)).toBe('too-short');
    expect(findPasswordPolicyViolation('🔐'.repeat(12), email)).toBeUndefined();
    expect(findPasswordPolicyViolation('🔐'.repeat(256), email)).toBeUndefined();
  });

  it('refuses the e-mail address as the password, whatever its case', () => {
    const longEmail = 'ada.lovelace@example.com';
    expect(findPasswordPolicyViolation('ADA.LOVELACE@example.COM', longEmail)).toBe('equals-email');
    expect(findPasswordPolicyViolation('ada.lovelace@example.org', longEmail)).toBeUndefined();
  });
});
