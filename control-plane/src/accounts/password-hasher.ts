import * as crypto from 'node:crypto';

/**
 * Password hashing for console accounts, stored as PHC strings
 * (https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md):
 *
 * - `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` through Node's built-in `crypto.argon2`
 *   (Node ≥ 24.7), with the OWASP minimum parameters: 19 MiB, 2 passes, 1 lane.
 * - `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` where `crypto.argon2` is missing (Node 22): the
 *   OWASP scrypt recommendation (N = 2^17), through `crypto.scrypt`.
 *
 * Both formats always verify, whichever the runtime hashes new passwords with, so moving
 * between Node versions never locks anyone out; `needsRehash` tells the login to upgrade a
 * hash made with weaker parameters.
 */
export interface PasswordHasher {
  /** Hashes with the current algorithm and parameters and a fresh 16-byte salt. */
  hash(password: string): Promise<string>;
  /** True when `password` matches `encoded`; false for a wrong password or an unreadable hash. */
  verify(password: string, encoded: string): Promise<boolean>;
  /** True when `encoded` was made with another algorithm or weaker parameters than today's. */
  needsRehash(encoded: string): boolean;
}

/** Argon2id cost parameters; `memoryKib` in KiB, as PHC's `m`. */
export interface Argon2Parameters {
  memoryKib: number;
  passes: number;
  parallelism: number;
}

/** scrypt cost parameters; `logN` is log2 of the CPU/memory cost N, as PHC's `ln`. */
export interface ScryptParameters {
  logN: number;
  blockSize: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1. */
export const ARGON2ID_PARAMETERS: Argon2Parameters = {
  memoryKib: 19_456,
  passes: 2,
  parallelism: 1,
};
/** OWASP: scrypt N = 2^17, r = 8, p = 1 (about 128 MiB of memory per hash). */
export const SCRYPT_PARAMETERS: ScryptParameters = { logN: 17, blockSize: 8, parallelism: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const ARGON2_VERSION = 19;
/** Bounds on what a stored hash may ask for, so a corrupted row cannot exhaust the host. */
const MAX_ARGON2_MEMORY_KIB = 1_048_576;
const MAX_SCRYPT_LOG_N = 20;

/** The shape of Node's `crypto.argon2` (absent before Node 24.7). */
type Argon2Function = typeof crypto.argon2;

interface DecodedArgon2 {
  algorithm: 'argon2id';
  parameters: Argon2Parameters;
  salt: Buffer;
  hash: Buffer;
}

interface DecodedScrypt {
  algorithm: 'scrypt';
  parameters: ScryptParameters;
  salt: Buffer;
  hash: Buffer;
}

type DecodedHash = DecodedArgon2 | DecodedScrypt;

export interface PasswordHasherOptions {
  /**
   * The argon2 implementation; defaults to `crypto.argon2` when the runtime has it. Pass
   * `undefined` explicitly (tests) to get the scrypt fallback.
   */
  argon2?: Argon2Function | undefined;
  argon2Parameters?: Argon2Parameters;
  scryptParameters?: ScryptParameters;
}

/** `crypto.argon2` when this Node has it (24.7 and later), else undefined. */
export function runtimeArgon2(): Argon2Function | undefined {
  const candidate = (crypto as Partial<typeof crypto>).argon2;
  return typeof candidate === 'function' ? candidate : undefined;
}

/** PHC's B64: standard base64 without padding. */
function toB64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

function fromB64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/**
 * `m=19456,t=2,p=1` with names [m, t, p] → {m: 19456, t: 2, p: 1}; undefined unless exactly
 * those names appear, each once, with a positive integer.
 */
function parseParameterList<Name extends string>(
  text: string,
  names: readonly Name[],
): Record<Name, number> | undefined {
  const values = new Map<string, number>();
  for (const pair of text.split(',')) {
    const match = /^([a-z]+)=([1-9]\d{0,9})$/.exec(pair);
    if (!match?.[1] || values.has(match[1])) return undefined;
    values.set(match[1], Number(match[2]));
  }
  if (values.size !== names.length || !names.every((name) => values.has(name))) return undefined;
  return Object.fromEntries(values) as Record<Name, number>;
}

/** The last three fields of a PHC string: parameters, salt and hash. */
function readPhcTail<Name extends string>(fields: string[], names: readonly Name[]) {
  const [parameterText = '', saltText = '', hashText = ''] = fields.slice(-3);
  const values = parseParameterList(parameterText, names);
  const salt = fromB64(saltText);
  const hash = fromB64(hashText);
  return values && salt && hash ? { values, salt, hash } : undefined;
}

function decodeArgon2id(fields: string[]): DecodedArgon2 | undefined {
  // ['', 'argon2id', 'v=19', 'm=…,t=…,p=…', salt, hash]
  if (fields.length !== 6 || fields[2] !== `v=${ARGON2_VERSION}`) return undefined;
  const tail = readPhcTail(fields, ['m', 't', 'p']);
  if (!tail) return undefined;
  const { m, t, p } = tail.values;
  if (m > MAX_ARGON2_MEMORY_KIB || m < 8 * p) return undefined;
  return {
    algorithm: 'argon2id',
    parameters: { memoryKib: m, passes: t, parallelism: p },
    salt: tail.salt,
    hash: tail.hash,
  };
}

function decodeScrypt(fields: string[]): DecodedScrypt | undefined {
  // ['', 'scrypt', 'ln=…,r=…,p=…', salt, hash]
  if (fields.length !== 5) return undefined;
  const tail = readPhcTail(fields, ['ln', 'r', 'p']);
  if (!tail || tail.values.ln > MAX_SCRYPT_LOG_N) return undefined;
  const { ln, r, p } = tail.values;
  return {
    algorithm: 'scrypt',
    parameters: { logN: ln, blockSize: r, parallelism: p },
    salt: tail.salt,
    hash: tail.hash,
  };
}

/** Reads a PHC string this module can verify; undefined for anything else. */
export function decodePasswordHash(encoded: string): DecodedHash | undefined {
  const fields = encoded.split('$');
  if (fields[0] !== '') return undefined;
  if (fields[1] === 'argon2id') return decodeArgon2id(fields);
  if (fields[1] === 'scrypt') return decodeScrypt(fields);
  return undefined;
}

function encodeArgon2id(parameters: Argon2Parameters, salt: Buffer, hash: Buffer): string {
  const { memoryKib, passes, parallelism } = parameters;
  return `$argon2id$v=${ARGON2_VERSION}$m=${memoryKib},t=${passes},p=${parallelism}$${toB64(salt)}$${toB64(hash)}`;
}

function encodeScrypt(parameters: ScryptParameters, salt: Buffer, hash: Buffer): string {
  const { logN, blockSize, parallelism } = parameters;
  return `$scrypt$ln=${logN},r=${blockSize},p=${parallelism}$${toB64(salt)}$${toB64(hash)}`;
}

/**
 * NIST SP 800-63B §5.1.1.2: passwords are compared after Unicode normalisation, so the same
 * password typed on two keyboards (composed or decomposed accents) hashes the same.
 */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFKC'), 'utf8');
}

/** One argon2id derivation: the password, and the salt, cost and length to derive with. */
interface Argon2Input {
  password: string;
  parameters: Argon2Parameters;
  salt: Buffer;
  tagLength: number;
}

function runArgon2(argon2: Argon2Function, input: Argon2Input): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: passwordBytes(input.password),
        nonce: input.salt,
        memory: input.parameters.memoryKib,
        passes: input.parameters.passes,
        parallelism: input.parameters.parallelism,
        tagLength: input.tagLength,
      },
      (error, derived) => {
        if (error) reject(error);
        else resolve(derived);
      },
    );
  });
}

function runScrypt(
  password: string,
  parameters: ScryptParameters,
  salt: Buffer,
  keyLength: number,
): Promise<Buffer> {
  const cost = 2 ** parameters.logN;
  // scrypt needs 128·N·r bytes (plus a little); Node's default cap is 32 MiB.
  const maxmem = 128 * cost * parameters.blockSize * parameters.parallelism + 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    crypto.scrypt(
      passwordBytes(password),
      salt,
      keyLength,
      { N: cost, r: parameters.blockSize, p: parameters.parallelism, maxmem },
      (error, derived) => {
        if (error) reject(error);
        else resolve(derived);
      },
    );
  });
}

function sameBytes(left: Buffer, right: Buffer): boolean {
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

function weakerArgon2(actual: DecodedArgon2, wanted: Argon2Parameters): boolean {
  return (
    actual.parameters.memoryKib < wanted.memoryKib ||
    actual.parameters.passes < wanted.passes ||
    actual.salt.length < SALT_BYTES ||
    actual.hash.length < HASH_BYTES
  );
}

function weakerScrypt(actual: DecodedScrypt, wanted: ScryptParameters): boolean {
  return (
    actual.parameters.logN < wanted.logN ||
    actual.parameters.blockSize < wanted.blockSize ||
    actual.salt.length < SALT_BYTES ||
    actual.hash.length < HASH_BYTES
  );
}

/** Creates the hasher: argon2id when the runtime has it, scrypt otherwise. */
export function createPasswordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const argon2 = 'argon2' in options ? options.argon2 : runtimeArgon2();
  const argon2Parameters = options.argon2Parameters ?? ARGON2ID_PARAMETERS;
  const scryptParameters = options.scryptParameters ?? SCRYPT_PARAMETERS;

  async function derive(password: string, decoded: DecodedHash): Promise<Buffer | undefined> {
    if (decoded.algorithm === 'scrypt') {
      return runScrypt(password, decoded.parameters, decoded.salt, decoded.hash.length);
    }
    // An argon2id hash on a runtime without argon2 cannot be checked: a failed login, not a crash.
    if (!argon2) return undefined;
    const { parameters, salt, hash } = decoded;
    return runArgon2(argon2, { password, parameters, salt, tagLength: hash.length });
  }

  return {
    async hash(password) {
      const salt = crypto.randomBytes(SALT_BYTES);
      if (argon2) {
        const hash = await runArgon2(argon2, {
          password,
          parameters: argon2Parameters,
          salt,
          tagLength: HASH_BYTES,
        });
        return encodeArgon2id(argon2Parameters, salt, hash);
      }
      const hash = await runScrypt(password, scryptParameters, salt, HASH_BYTES);
      return encodeScrypt(scryptParameters, salt, hash);
    },

    async verify(password, encoded) {
      const decoded = decodePasswordHash(encoded);
      if (!decoded) return false;
      const derived = await derive(password, decoded);
      return derived !== undefined && sameBytes(derived, decoded.hash);
    },

    needsRehash(encoded) {
      const decoded = decodePasswordHash(encoded);
      if (!decoded) return true;
      if (decoded.algorithm === 'argon2id') {
        // Without argon2 here the hash cannot even be verified; rehashing would need the password.
        return argon2 !== undefined && weakerArgon2(decoded, argon2Parameters);
      }
      // A scrypt hash is upgraded to argon2id as soon as the runtime can.
      return argon2 !== undefined || weakerScrypt(decoded, scryptParameters);
    },
  };
}
