import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { AuditCheckpoint, AuditEntry, AuditPublicJwk } from './audit-chain.ts';
import {
  verifyAuditChain,
  type AuditProblem,
  type AuditVerificationReport,
} from './audit-chain-verifier.ts';

/**
 * The files of an audit export, side by side in one directory: the entries as NDJSON
 * (oldest first, the format of `GET …/audit/export`), the signed checkpoints (the last one
 * over the last entry) and the public keys that verify them.
 */
export const AUDIT_EXPORT_FILES = {
  entries: 'audit.ndjson',
  checkpoints: 'audit-checkpoints.json',
  signingKeys: 'audit-signing-keys.json',
} as const;

/** `audit-checkpoints.json`: the tenant the log belongs to and its checkpoints, oldest first. */
export interface AuditCheckpointsFile {
  tenantId: string;
  checkpoints: AuditCheckpoint[];
}

/** `audit-signing-keys.json`: a JWK Set, as `GET /api/v1/audit/signing-keys` serves it. */
export interface AuditSigningKeysFile {
  keys: AuditPublicJwk[];
}

/** The entries read from an NDJSON export, and the lines that were not entries at all. */
export interface ParsedAuditLines {
  entries: AuditEntry[];
  problems: AuditProblem[];
}

export interface AuditExportInput {
  /** The NDJSON text of the entries file. */
  ndjson: string;
  checkpoints: AuditCheckpointsFile;
  keys: readonly AuditPublicJwk[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A structural check of one parsed line: the fields hashing and linking read. */
function isAuditEntry(value: unknown): value is AuditEntry {
  if (!isRecord(value)) return false;
  const strings = ['tenantId', 'occurredAt', 'action', 'outcome', 'previousHash', 'hash'];
  return (
    strings.every((field) => typeof value[field] === 'string') &&
    Number.isSafeInteger(value.sequence) &&
    isRecord(value.actor) &&
    typeof value.actor.type === 'string' &&
    isRecord(value.target) &&
    isRecord(value.details)
  );
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads an NDJSON export. A line that is not an audit entry (edited into invalid JSON,
 * fields removed) is reported as `modified` at the sequence it should have had.
 */
export function parseAuditLines(ndjson: string): ParsedAuditLines {
  const entries: AuditEntry[] = [];
  const problems: AuditProblem[] = [];
  const lines = ndjson.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    const value = parseLine(line);
    if (isAuditEntry(value)) {
      entries.push(value);
      return;
    }
    problems.push({
      sequence: (entries.at(-1)?.sequence ?? 0) + 1,
      kind: 'modified',
      message: `line ${index + 1} is not an audit entry: it was changed or corrupted`,
    });
  });
  return { entries, problems };
}

/** Public keys by key id; a key that is not an Ed25519 JWK is left out (its checkpoints fail). */
function importKeys(keys: readonly AuditPublicJwk[]): Map<string, KeyObject> {
  const byId = new Map<string, KeyObject>();
  for (const jwk of keys) {
    try {
      const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
      if (key.asymmetricKeyType === 'ed25519') byId.set(jwk.kid, key);
    } catch {
      // Not a usable key: checkpoints naming it are reported as bad signatures.
    }
  }
  return byId;
}

function verifierFor(keys: Map<string, KeyObject>) {
  return (keyId: string, statement: string, signature: string): boolean => {
    const key = keys.get(keyId);
    if (key === undefined) return false;
    try {
      return verify(null, Buffer.from(statement, 'utf8'), key, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  };
}

/** Entries past the final checkpoint: an export is signed over its last entry, so these were added. */
function unvouchedProblem(
  entries: readonly AuditEntry[],
  checkpoints: readonly AuditCheckpoint[],
): AuditProblem | undefined {
  const last = entries.at(-1)?.sequence ?? 0;
  const vouched = Math.max(0, ...checkpoints.map((checkpoint) => checkpoint.sequence));
  if (last <= vouched) return undefined;
  const first = vouched + 1;
  const which = first === last ? `entry ${last}` : `entries ${first}–${last}`;
  return {
    sequence: first,
    kind: 'unvouched',
    message: `${which} come after the final signed checkpoint (${vouched}): nothing vouches for them`,
  };
}

/**
 * Verifies an exported audit log offline: every entry's hash and link, the sequence, every
 * checkpoint's signature with the given public keys, and that the final checkpoint covers
 * the last entry. Pure apart from the signature checks; it reports, never throws.
 *
 * The keys prove only that whoever holds the matching private key signed the log: compare
 * their ids with the platform's published keys (`GET /api/v1/audit/signing-keys`).
 */
export function verifyAuditExport(input: AuditExportInput): AuditVerificationReport {
  const parsed = parseAuditLines(input.ndjson);
  const { tenantId, checkpoints } = input.checkpoints;
  const report = verifyAuditChain({
    tenantId,
    entries: parsed.entries,
    checkpoints,
    verifySignature: verifierFor(importKeys(input.keys)),
  });
  const unvouched = unvouchedProblem(parsed.entries, checkpoints);
  const problems = [...parsed.problems, ...report.problems, ...(unvouched ? [unvouched] : [])];
  problems.sort((a, b) => a.sequence - b.sequence || a.kind.localeCompare(b.kind));
  return { ...report, ok: problems.length === 0, problems };
}
