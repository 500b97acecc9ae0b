import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditPublicJwk } from '@citadel/contracts/audit';

export type { AuditPublicJwk };

/** Signs checkpoint statements with the platform's Ed25519 key and verifies them with its public keys. */
export interface AuditSigner {
  /** First 16 hex characters of the SHA-256 of the public key's SPKI DER. */
  keyId: string;
  /** Base64 Ed25519 signature of `statement` (UTF-8). */
  sign(statement: string): string;
  /** False for an unknown key id or a signature that does not verify. */
  verify(keyId: string, statement: string, signature: string): boolean;
  /** The public keys verifiers need; no secret. */
  publicKeys(): AuditPublicJwk[];
}

/** Where the platform keeps its audit signing key under the data directory. */
export function auditSigningKeyPath(dataDir: string): string {
  return path.join(dataDir, 'keys', 'audit-signing-key.pem');
}

/** The key id of an Ed25519 public key: first 16 hex of SHA-256 over its SPKI DER. */
export function auditKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** A signer over one Ed25519 private key. */
export function createAuditSigner(privateKey: KeyObject): AuditSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error('the audit signing key must be an Ed25519 key');
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = auditKeyId(publicKey);
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    keyId,
    sign: (statement) => sign(null, Buffer.from(statement, 'utf8'), privateKey).toString('base64'),
    verify(candidateKeyId, statement, signature) {
      if (candidateKeyId !== keyId) return false;
      try {
        return verify(
          null,
          Buffer.from(statement, 'utf8'),
          publicKey,
          Buffer.from(signature, 'base64'),
        );
      } catch {
        return false;
      }
    },
    publicKeys: () => [
      { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x), kid: keyId, alg: 'EdDSA', use: 'sig' },
    ],
  };
}

/**
 * Loads the platform's audit signing key (PKCS#8 PEM at
 * `<dataDir>/keys/audit-signing-key.pem`), creating it with mode 0600 on first start.
 * Two processes starting at once agree on one key: the key is written to a private
 * temporary file and hard-linked into place, which fails if a key is there already.
 */
export async function loadAuditSigner(dataDir: string): Promise<AuditSigner> {
  const file = auditSigningKeyPath(dataDir);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const existing = await readPem(file);
  if (existing !== undefined) return createAuditSigner(createPrivateKey(existing));
  const { privateKey } = generateKeyPairSync('ed25519');
  const temporary = `${file}.${String(process.pid)}.${randomUUID()}.tmp`;
  await writeFile(temporary, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
    mode: 0o600,
    flag: 'wx',
  });
  try {
    await link(temporary, file);
    return createAuditSigner(privateKey);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return createAuditSigner(createPrivateKey(await readFile(file, 'utf8')));
  } finally {
    await rm(temporary, { force: true });
  }
}

async function readPem(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
