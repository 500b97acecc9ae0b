import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's default SCRAM iteration count (`scram_iterations`). */
const DEFAULT_ITERATIONS = 4096;
const VERIFIER_PATTERN =
  /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL would store for `password` (RFC 5802/7677, the
 * format of `pg_authid.rolpassword`). Handing the server the verifier instead of the
 * password keeps the plaintext out of its statement logs and `pg_stat_statements`.
 * Only for ASCII passwords, for which SASLprep changes nothing (ours are base64url).
 */
export async function createScramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations: number = DEFAULT_ITERATIONS,
): Promise<string> {
  if (!/^[\x21-\x7e]+$/.test(password)) {
    throw new Error('SCRAM verifiers are only computed here for printable ASCII passwords');
  }
  const salted = await pbkdf2Async(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return (
    `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}` +
    `$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
  );
}

/**
 * Whether `verifier` (as read from `pg_authid.rolpassword`) was made from `password`.
 * `false` for md5 hashes, absent passwords and anything unparseable.
 */
export async function scramVerifierMatches(
  password: string,
  verifier: string | undefined,
): Promise<boolean> {
  const match = verifier === undefined ? null : VERIFIER_PATTERN.exec(verifier);
  if (!match?.[1] || !match[2]) return false;
  const recomputed = await createScramVerifier(
    password,
    Buffer.from(match[2], 'base64'),
    Number(match[1]),
  );
  return recomputed === verifier;
}
