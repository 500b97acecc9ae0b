import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointStatement } from '../src/audit/audit-entry.ts';
import {
  auditSigningKeyPath,
  createAuditSigner,
  loadAuditSigner,
} from '../src/audit/audit-signer.ts';

const directories: string[] = [];
async function temporaryDataDir(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'citadel-audit-key-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(directories.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('audit signer', () => {
  it('signs statements that verify with the published JWK alone', () => {
    const signer = createAuditSigner(generateKeyPairSync('ed25519').privateKey);
    const statement = checkpointStatement('7d1c…', 100, 'ab'.repeat(32));
    const signature = signer.sign(statement);
    expect(signer.verify(signer.keyId, statement, signature)).toBe(true);

    const [jwk] = signer.publicKeys();
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: signer.keyId });
    const publicKey = createPublicKey({ key: { ...jwk }, format: 'jwk' });
    expect(verify(null, Buffer.from(statement), publicKey, Buffer.from(signature, 'base64'))).toBe(
      true,
    );
    const der = publicKey.export({ format: 'der', type: 'spki' });
    expect(signer.keyId).toBe(createHash('sha256').update(der).digest('hex').slice(0, 16));
  });

  it('rejects altered statements, forged signatures and unknown keys', () => {
    const signer = createAuditSigner(generateKeyPairSync('ed25519').privateKey);
    const other = createAuditSigner(generateKeyPairSync('ed25519').privateKey);
    const statement = checkpointStatement('tenant', 5, 'cd'.repeat(32));
    const signature = signer.sign(statement);
    expect(signer.verify(signer.keyId, statement.replace(':5:', ':6:'), signature)).toBe(false);
    expect(signer.verify(signer.keyId, statement, other.sign(statement))).toBe(false);
    expect(signer.verify(other.keyId, statement, signature)).toBe(false);
    expect(signer.verify(signer.keyId, statement, 'not base64 at all')).toBe(false);
  });

  it('refuses keys that are not Ed25519', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => createAuditSigner(privateKey)).toThrow(/Ed25519/);
  });

  it('creates the key once (PKCS#8 PEM, 0600) and loads the same key afterwards', async () => {
    const dataDir = await temporaryDataDir();
    const [first, concurrent] = await Promise.all([
      loadAuditSigner(dataDir),
      loadAuditSigner(dataDir),
    ]);
    expect(concurrent.keyId).toBe(first.keyId);
    const file = auditSigningKeyPath(dataDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect((await loadAuditSigner(dataDir)).keyId).toBe(first.keyId);
  });
});
