import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { link, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

/** One Ed25519 signing key; its `kid` is the RFC 7638 thumbprint of the public key. */
export interface TokenSigningKey {
  kid: string;
  createdAt: Date;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The platform's rotating token-signing keys, kept as files under the data directory. */
export interface TokenSigningKeyStore {
  /** The newest key, which signs; rotates first when it is older than the maximum age. */
  current(): Promise<TokenSigningKey>;
  /** The live public key `kid`; re-reads the directory (at most every few seconds) on a miss. */
  publicKey(kid: string): Promise<KeyObject | undefined>;
  /** Every live public key as a JWK, newest first. */
  publicJwks(): Promise<JWK[]>;
  /** Makes a new key the signing key; older keys stay published until their tokens expire. */
  rotate(): Promise<TokenSigningKey>;
}

export interface TokenSigningKeyStoreOptions {
  dataDir: string;
  /** A signing key older than this is replaced at its next use. */
  maxKeyAgeMs: number;
  /** How long a replaced key stays published: the token lifetime plus clock skew. */
  retireAfterMs: number;
  now?: () => Date;
}

/** `<createdAt ms>-<kid>.pem`: the name orders the keys without trusting file times. */
const KEY_FILE = /^(\d+)-([\w-]{43})\.pem$/;
/** A miss re-reads the directory at most this often, so unknown kids cannot make us spin. */
const RELOAD_INTERVAL_MS = 5_000;

/** Where the platform keeps its token-signing keys under the data directory. */
export function tokenSigningKeyDir(dataDir: string): string {
  return path.join(dataDir, 'keys', 'token-signing');
}

async function toSigningKey(privateKey: KeyObject, createdAt: Date): Promise<TokenSigningKey> {
  const publicKey = createPublicKey(privateKey);
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { kid, createdAt, privateKey, publicKey };
}

async function readKeys(dir: string): Promise<TokenSigningKey[]> {
  const keys: TokenSigningKey[] = [];
  for (const name of await readdir(dir)) {
    const match = KEY_FILE.exec(name);
    if (!match) continue;
    const privateKey = createPrivateKey(await readFile(path.join(dir, name), 'utf8'));
    if (privateKey.asymmetricKeyType !== 'ed25519') continue;
    keys.push(await toSigningKey(privateKey, new Date(Number(match[1]))));
  }
  return keys.sort((left, right) => right.createdAt.getTime() - left.createdAt.getTime());
}

/**
 * Writes a new PKCS#8 key with mode 0600: to a private temporary file first, then
 * hard-linked into place, so no other process ever reads a half-written key.
 */
async function writeKey(dir: string, createdAt: Date): Promise<TokenSigningKey> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const key = await toSigningKey(privateKey, createdAt);
  const file = path.join(dir, `${String(createdAt.getTime())}-${key.kid}.pem`);
  const temporary = `${file}.${String(process.pid)}.${randomUUID()}.tmp`;
  await writeFile(temporary, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
    mode: 0o600,
    flag: 'wx',
  });
  try {
    await link(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
  return key;
}

/**
 * Keys that signed nothing for longer than `retireAfterMs` are gone from the set; the
 * newest and the one before it always stay.
 */
export function liveKeys(
  keys: TokenSigningKey[],
  now: Date,
  retireAfterMs: number,
): { live: TokenSigningKey[]; retired: TokenSigningKey[] } {
  const live: TokenSigningKey[] = [];
  const retired: TokenSigningKey[] = [];
  keys.forEach((key, index) => {
    const successor = keys[index - 1];
    const replacedLongAgo =
      successor !== undefined && now.getTime() - successor.createdAt.getTime() > retireAfterMs;
    (index >= 2 && replacedLongAgo ? retired : live).push(key);
  });
  return { live, retired };
}

/** Opens (creating on first start) the key directory `<dataDir>/keys/token-signing/`. */
export async function loadTokenSigningKeyStore(
  options: TokenSigningKeyStoreOptions,
): Promise<TokenSigningKeyStore> {
  const dir = tokenSigningKeyDir(options.dataDir);
  const now = options.now ?? (() => new Date());
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let keys: TokenSigningKey[] = [];
  let loadedAt = 0;
  let rotation: Promise<TokenSigningKey> | undefined;

  async function reload(): Promise<void> {
    const { live, retired } = liveKeys(await readKeys(dir), now(), options.retireAfterMs);
    await Promise.all(
      retired.map((key) =>
        rm(path.join(dir, `${String(key.createdAt.getTime())}-${key.kid}.pem`), { force: true }),
      ),
    );
    keys = live;
    loadedAt = Date.now();
  }

  function rotate(): Promise<TokenSigningKey> {
    // One rotation at a time in this process; another replica's rotation shows on reload.
    rotation ??= writeKey(dir, now())
      .then(async (key) => {
        await reload();
        return key;
      })
      .finally(() => {
        rotation = undefined;
      });
    return rotation;
  }

  await reload();
  if (keys.length === 0) await rotate();

  return {
    async current() {
      const newest = keys[0];
      if (newest && now().getTime() - newest.createdAt.getTime() < options.maxKeyAgeMs) {
        return newest;
      }
      return rotate();
    },
    async publicKey(kid) {
      const known = keys.find((key) => key.kid === kid);
      if (known || Date.now() - loadedAt < RELOAD_INTERVAL_MS) return known?.publicKey;
      await reload();
      return keys.find((key) => key.kid === kid)?.publicKey;
    },
    async publicJwks() {
      // Another replica may have rotated: the published set follows the directory.
      if (Date.now() - loadedAt >= RELOAD_INTERVAL_MS) await reload();
      return Promise.all(
        keys.map(async (key) => ({
          ...(await exportJWK(key.publicKey)),
          kid: key.kid,
          alg: 'EdDSA',
          use: 'sig',
        })),
      );
    },
    rotate,
  };
}
