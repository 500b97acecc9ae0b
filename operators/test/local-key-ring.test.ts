import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalKeyRing,
  KeyRingError,
  masterKeyPath,
  type LocalKeyRing,
} from '../src/drivers/local/local-key-ring.ts';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'citadel-key-ring-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof KeyRingError ? error.code : `not a KeyRingError: ${String(error)}`;
  }
  return undefined;
}

/** Every single-bit flip of `bytes` must be detected. */
function flipEachByte(bytes: Buffer): Buffer[] {
  return [...bytes.keys()].map((index) => {
    const copy = Buffer.from(bytes);
    copy[index] = (copy[index] ?? 0) ^ 0x01;
    return copy;
  });
}

describe('createLocalKeyRing', () => {
  it('creates a 256-bit master key readable by its owner only, in a 0700 directory', async () => {
    const keyRing = await createLocalKeyRing({ dataDir });
    const file = await stat(masterKeyPath(dataDir));
    const directory = await stat(join(dataDir, 'keys'));
    expect(file.mode & 0o777).toBe(0o600);
    expect(file.size).toBe(32);
    expect(directory.mode & 0o777).toBe(0o700);
    expect(keyRing.masterKeyId).toMatch(/^[0-9a-f]{8}$/);
  });

  it('loads the same master key on the next start', async () => {
    const first = await createLocalKeyRing({ dataDir });
    const wrapped = first.wrap(first.generateDataKey());
    const second = await createLocalKeyRing({ dataDir });
    expect(second.masterKeyId).toBe(first.masterKeyId);
    expect(second.unwrap(wrapped)).toEqual(first.unwrap(wrapped));
  });

  it('agrees on one master key when several processes start at once', async () => {
    const keyRings = await Promise.all(
      Array.from({ length: 8 }, () => createLocalKeyRing({ dataDir })),
    );
    expect(new Set(keyRings.map((keyRing) => keyRing.masterKeyId)).size).toBe(1);
  });

  it('uses a key published as a Kubernetes Secret volume does it (0440, via ..data), writing nothing', async () => {
    // kubelet's layout: a timestamped directory, `..data` pointing at it, and each key a
    // link through `..data`; with an fsGroup, defaultMode 0400 becomes 0440.
    const keys = join(dataDir, 'keys');
    const published = join(keys, '..2026_01_01_00_00_00.000000001');
    await mkdir(published, { recursive: true });
    const key = randomBytes(32);
    await writeFile(join(published, 'master.key'), key, { mode: 0o440 });
    await chmod(join(published, 'master.key'), 0o440);
    await symlink('..2026_01_01_00_00_00.000000001', join(keys, '..data'));
    await symlink('..data/master.key', masterKeyPath(dataDir));
    const before = await readdir(keys);

    const keyRing = await createLocalKeyRing({ dataDir });
    expect(keyRing.masterKeyId).toBe(
      createHash('sha256').update(key).digest().subarray(0, 4).toString('hex'),
    );
    expect(keyRing.unwrap(keyRing.wrap(Buffer.alloc(32, 7)))).toEqual(Buffer.alloc(32, 7));
    expect(await readdir(keys)).toEqual(before);
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o444, 0o460])(
    'refuses to start when the master key file has mode %o',
    async (mode) => {
      await createLocalKeyRing({ dataDir });
      await chmod(masterKeyPath(dataDir), mode);
      const error = await createLocalKeyRing({ dataDir }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeyRingError);
      expect(error).toMatchObject({ code: 'master-key-permissions' });
      expect((error as Error).message).toContain('chmod 600');
    },
  );

  it('refuses a master key file of the wrong size', async () => {
    await createLocalKeyRing({ dataDir });
    await writeFile(masterKeyPath(dataDir), Buffer.alloc(16), { mode: 0o600 });
    await expect(createLocalKeyRing({ dataDir })).rejects.toMatchObject({
      code: 'master-key-invalid',
    });
  });
});

describe('LocalKeyRing', () => {
  let keyRing: LocalKeyRing;

  beforeEach(async () => {
    keyRing = await createLocalKeyRing({ dataDir });
  });

  it('wraps and unwraps data keys, with a fresh IV every time', () => {
    const dataKey = keyRing.generateDataKey();
    expect(dataKey).toHaveLength(32);
    const first = keyRing.wrap(dataKey);
    const second = keyRing.wrap(dataKey);
    expect(first).not.toEqual(second);
    expect(first.subarray(0, 2)).toEqual(Buffer.from([0x57, 0x01]));
    expect(first).toHaveLength(2 + 4 + 12 + 16 + 32);
    expect(keyRing.unwrap(first)).toEqual(dataKey);
    expect(keyRing.unwrap(second)).toEqual(dataKey);
  });

  it('detects any altered byte of a wrapped key', () => {
    const wrapped = keyRing.wrap(keyRing.generateDataKey());
    const codes = new Set(
      flipEachByte(wrapped).map((tampered) => codeOf(() => keyRing.unwrap(tampered))),
    );
    expect(codes).toEqual(
      new Set(['unsupported-format', 'wrong-master-key', 'authentication-failed']),
    );
    expect(codeOf(() => keyRing.unwrap(wrapped.subarray(0, wrapped.length - 1)))).toBe(
      'unsupported-format',
    );
  });

  it('names the problem when a key was wrapped by another master key', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'citadel-key-ring-other-'));
    try {
      const other = await createLocalKeyRing({ dataDir: otherDir });
      const wrapped = other.wrap(other.generateDataKey());
      expect(codeOf(() => keyRing.unwrap(wrapped))).toBe('wrong-master-key');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('encrypts and decrypts with a data key and associated data', () => {
    const dataKey = keyRing.generateDataKey();
    const context = Buffer.from('tenant-1/password');
    const ciphertext = keyRing.encrypt(Buffer.from('s3cret'), dataKey, context);
    expect(ciphertext.includes(Buffer.from('s3cret'))).toBe(false);
    expect(ciphertext.subarray(0, 2)).toEqual(Buffer.from([0x45, 0x01]));
    expect(keyRing.decrypt(ciphertext, dataKey, context).toString()).toBe('s3cret');
    expect(keyRing.decrypt(keyRing.encrypt(Buffer.alloc(0), dataKey), dataKey)).toEqual(
      Buffer.alloc(0),
    );
  });

  it('detects tampering, the wrong key and the wrong context', () => {
    const dataKey = keyRing.generateDataKey();
    const context = Buffer.from('tenant-1/password');
    const ciphertext = keyRing.encrypt(Buffer.from('s3cret'), dataKey, context);
    for (const tampered of flipEachByte(ciphertext)) {
      expect(['authentication-failed', 'unsupported-format']).toContain(
        codeOf(() => keyRing.decrypt(tampered, dataKey, context)),
      );
    }
    expect(codeOf(() => keyRing.decrypt(ciphertext, keyRing.generateDataKey(), context))).toBe(
      'authentication-failed',
    );
    expect(
      codeOf(() => keyRing.decrypt(ciphertext, dataKey, Buffer.from('tenant-2/password'))),
    ).toBe('authentication-failed');
    expect(codeOf(() => keyRing.decrypt(ciphertext, dataKey))).toBe('authentication-failed');
    expect(codeOf(() => keyRing.decrypt(ciphertext.subarray(0, 20), dataKey, context))).toBe(
      'unsupported-format',
    );
    expect(codeOf(() => keyRing.encrypt(Buffer.from('x'), Buffer.alloc(16)))).toBe(
      'invalid-data-key',
    );
  });
});
