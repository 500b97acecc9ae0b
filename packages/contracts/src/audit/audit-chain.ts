import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from '../canonical-json.ts';

/**
 * The format of a tenant's hash-chained audit log, shared by the platform that writes it
 * and by anyone who verifies an export of it offline (the CLI among them).
 */

/**
 * One entry of a tenant's audit log as it is exported. Only what verification reads is
 * typed narrowly; the platform's own entry type (actor kinds, outcomes) is assignable to it.
 */
export interface AuditEntry {
  tenantId: string;
  /** 1, 2, 3… per tenant, without gaps. */
  sequence: number;
  /** ISO 8601 with milliseconds, UTC. */
  occurredAt: string;
  /** Who acted, e.g. `{ type: 'operator', ip: '127.0.0.1' }`. */
  actor: { type: string; id?: string | undefined; ip?: string | undefined };
  /** Dotted verb, e.g. `tenant.suspended`. */
  action: string;
  target: { type: string; id: string };
  outcome: string;
  details: Record<string, JsonValue | undefined>;
  /** hex SHA-256 of the entry before ({@link GENESIS_HASH} for the first). */
  previousHash: string;
  /** hex SHA-256 of {@link auditEntryHashInput}. */
  hash: string;
}

/** A signed statement that a tenant's log had `sequence` entries, the last one hashing to `hash`. */
export interface AuditCheckpoint {
  tenantId: string;
  sequence: number;
  hash: string;
  /** Ed25519 signature (base64) over {@link checkpointStatement}. */
  signature: string;
  keyId: string;
  createdAt: string;
}

/** A checkpoint-signing public key as a JWK (RFC 8037 OKP / Ed25519), with its key id. */
export interface AuditPublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** The `previousHash` of a tenant's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The exact text whose SHA-256 is an entry's hash: the canonical JSON (RFC 8785) of
 * `{tenantId, sequence, occurredAt, actor, action, target, outcome, details, previousHash}`.
 * Anyone holding an export can recompute it.
 */
export function auditEntryHashInput(entry: Omit<AuditEntry, 'hash'>): string {
  return canonicalJson({
    tenantId: entry.tenantId,
    sequence: entry.sequence,
    occurredAt: entry.occurredAt,
    actor: { ...entry.actor },
    action: entry.action,
    target: { ...entry.target },
    outcome: entry.outcome,
    details: entry.details,
    previousHash: entry.previousHash,
  });
}

/** The hex SHA-256 of an entry's canonical form. */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(auditEntryHashInput(entry), 'utf8').digest('hex');
}

/** What a checkpoint signs: `citadel-audit-checkpoint:v1:<tenantId>:<sequence>:<hash>`. */
export function checkpointStatement(tenantId: string, sequence: number, hash: string): string {
  return `citadel-audit-checkpoint:v1:${tenantId}:${sequence}:${hash}`;
}
