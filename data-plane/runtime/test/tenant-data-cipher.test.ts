import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  readTenantDataCipher,
  TenantDataCipherError,
  type TenantDataCipher,
} from '../src/tenant-data-cipher.ts';

const keyOne = randomBytes(32);
const keyTwo = randomBytes(32);

function keysVariable(active: number, keys: Record<string, Buffer>): string {
  const encoded = Object.fromEntries(
    Object.entries(keys).map(([version, key]) => [version, key.toString('base64')]),
  );
  return JSON.stringify({ active, keys: encoded });
}

function cipherFor(active: number, keys: Record<string, Buffer>): TenantDataCipher {
  const cipher = readTenantDataCipher({ CITADEL_TENANT_DATA_KEYS: keysVariable(active, keys) });
  if (!cipher) throw new Error('expected a cipher');
  return cipher;
}

function failureOf(action: () => unknown): TenantDataCipherError {
  try {
    action();
  } catch (error) {
    if (error instanceof TenantDataCipherError) return error;
    throw error;
  }
  throw new Error('expected a TenantDataCipherError');
}

const plaintext = Buffer.from('the original document, byte for byte \u0000\u00ff');
const context = 'document:7d2c:v1';

describe('readTenantDataCipher', () => {
  it('is undefined when the host was given no keys', () => {
    expect(readTenantDataCipher({})).toBeUndefined();
    expect(readTenantDataCipher({ CITADEL_TENANT_DATA_KEYS: '  ' })).toBeUndefined();
  });

  it('round-trips with the active key, and never seals the same bytes twice alike', () => {
    const cipher = cipherFor(1, { 1: keyOne });
    expect(cipher.activeKeyVersion).toBe(1);
    const envelope = cipher.encrypt(plaintext, context);
    expect(cipher.decrypt(envelope, context)).toEqual(plaintext);
    expect(envelope.includes(plaintext)).toBe(false);
    expect(cipher.encrypt(plaintext, context).equals(envelope)).toBe(false);
    expect(cipher.decrypt(cipher.encrypt(Buffer.alloc(0), context), context)).toEqual(
      Buffer.alloc(0),
    );
  });

  it('writes a self-describing envelope: format byte, key version, IV, tag, ciphertext', () => {
    const envelope = cipherFor(2, { 1: keyOne, 2: keyTwo }).encrypt(plaintext, context);
    expect(envelope[0]).toBe(0x54);
    expect(envelope[1]).toBe(0x01);
    expect(envelope.readUInt32BE(2)).toBe(2);
    expect(envelope.length).toBe(6 + 12 + 16 + plaintext.length);
  });

  it('still opens what an older key version sealed after a rotation', () => {
    const before = cipherFor(1, { 1: keyOne });
    const sealedBefore = before.encrypt(plaintext, context);
    const after = cipherFor(2, { 1: keyOne, 2: keyTwo });
    expect(after.activeKeyVersion).toBe(2);
    expect(after.decrypt(sealedBefore, context)).toEqual(plaintext);
    const sealedAfter = after.encrypt(plaintext, context);
    expect(sealedAfter.readUInt32BE(2)).toBe(2);
    expect(failureOf(() => before.decrypt(sealedAfter, context))).toMatchObject({
      code: 'unknown-key-version',
      message: expect.stringContaining('version 2') as unknown,
    });
  });

  it('refuses an envelope whose bytes were altered anywhere', () => {
    const cipher = cipherFor(1, { 1: keyOne });
    const envelope = cipher.encrypt(plaintext, context);
    for (const offset of [6, 6 + 12, envelope.length - 1]) {
      const tampered = Buffer.from(envelope);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
      expect(failureOf(() => cipher.decrypt(tampered, context)).code).toBe('authentication-failed');
    }
    expect(failureOf(() => cipher.decrypt(envelope.subarray(0, 20), context)).code).toBe(
      'unsupported-format',
    );
    const otherFormat = Buffer.from(envelope);
    otherFormat[1] = 0x02;
    expect(failureOf(() => cipher.decrypt(otherFormat, context)).code).toBe('unsupported-format');
  });

  it('authenticates the key version: relabelling an envelope does not open it', () => {
    const cipher = cipherFor(2, { 1: keyOne, 2: keyOne });
    const relabelled = cipher.encrypt(plaintext, context);
    relabelled.writeUInt32BE(1, 2);
    expect(failureOf(() => cipher.decrypt(relabelled, context)).code).toBe('authentication-failed');
  });

  it('refuses an envelope opened under other associated data', () => {
    const cipher = cipherFor(1, { 1: keyOne });
    const envelope = cipher.encrypt(plaintext, context);
    expect(failureOf(() => cipher.decrypt(envelope, 'document:7d2c:v2')).code).toBe(
      'authentication-failed',
    );
  });

  it('refuses an envelope sealed with another key of the same version', () => {
    const envelope = cipherFor(1, { 1: keyOne }).encrypt(plaintext, context);
    expect(failureOf(() => cipherFor(1, { 1: keyTwo }).decrypt(envelope, context)).code).toBe(
      'authentication-failed',
    );
  });

  const good = keyOne.toString('base64');
  it.each([
    ['not JSON', `{"active":1,"keys":{"1":"${good}"`, 'is not JSON'],
    ['an array', `["${good}"]`, 'must be a JSON object'],
    ['an unknown field', `{"active":1,"keys":{"1":"${good}"},"k":"${good}"}`, 'unknown fields: k'],
    ['no active version', `{"keys":{"1":"${good}"}}`, '"active" must be an integer'],
    ['a fractional active version', `{"active":1.5,"keys":{"1":"${good}"}}`, '"active" must'],
    ['a string active version', `{"active":"1","keys":{"1":"${good}"}}`, '"active" must'],
    ['keys as an array', `{"active":1,"keys":["${good}"]}`, '"keys" must be an object'],
    ['a version of zero', `{"active":1,"keys":{"0":"${good}","1":"${good}"}}`, 'key version "0"'],
    ['a padded version', `{"active":1,"keys":{"01":"${good}"}}`, 'key version "01"'],
    ['a short key', `{"active":1,"keys":{"1":"${good.slice(4)}"}}`, 'key version 1 must be'],
    ['a longer key', `{"active":1,"keys":{"1":"${randomBytes(48).toString('base64')}"}}`, 'must'],
    ['base64url', `{"active":1,"keys":{"1":"${keyOne.toString('base64url')}"}}`, 'must be'],
    ['a key that is a number', `{"active":1,"keys":{"1":12}}`, 'key version 1 must be'],
    ['no key for the active version', `{"active":2,"keys":{"1":"${good}"}}`, 'active version 2'],
  ])('refuses %s, saying what is wrong and nothing of the keys', (_case, value, problem) => {
    const error = failureOf(() => readTenantDataCipher({ CITADEL_TENANT_DATA_KEYS: value }));
    expect(error.code).toBe('malformed-keys');
    expect(error.message).toContain('CITADEL_TENANT_DATA_KEYS');
    expect(error.message).toContain(problem);
    expect(error.message).not.toContain(good);
    expect(error.message).not.toContain(good.slice(4, 20));
    expect(error.message).not.toContain(keyOne.toString('base64url').slice(4, 20));
  });
});
