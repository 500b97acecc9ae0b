import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../src/audit/audit-chain-verifier.ts';
import {
  checkpointStatement,
  GENESIS_HASH,
  hashAuditEntry,
  type AuditCheckpoint,
  type AuditEntry,
} from '../src/audit/audit-entry.ts';
import { createAuditSigner } from '../src/audit/audit-signer.ts';

/** `items[index]`, which must exist. */
function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no item at ${index}`);
  return item;
}

const TENANT = '00000000-0000-4000-8000-000000000001';
const signer = createAuditSigner(generateKeyPairSync('ed25519').privateKey);

function chain(length: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let sequence = 1; sequence <= length; sequence += 1) {
    const content = {
      tenantId: TENANT,
      sequence,
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)).toISOString(),
      actor: { type: 'operator' as const, ip: '127.0.0.1' },
      action: 'api-key.issued',
      target: { type: 'api-key', id: `key-${sequence}` },
      outcome: 'success' as const,
      details: { n: sequence },
      previousHash: entries.at(-1)?.hash ?? GENESIS_HASH,
    };
    entries.push({ ...content, hash: hashAuditEntry(content) });
  }
  return entries;
}

function checkpoint(entry: AuditEntry): AuditCheckpoint {
  return {
    tenantId: TENANT,
    sequence: entry.sequence,
    hash: entry.hash,
    keyId: signer.keyId,
    signature: signer.sign(checkpointStatement(TENANT, entry.sequence, entry.hash)),
    createdAt: entry.occurredAt,
  };
}

function verify(entries: AuditEntry[], checkpoints: AuditCheckpoint[] = []) {
  return verifyAuditChain({
    tenantId: TENANT,
    entries,
    checkpoints,
    verifySignature: (keyId, statement, signature) => signer.verify(keyId, statement, signature),
  });
}

function kinds(report: ReturnType<typeof verify>) {
  return report.problems.map(({ sequence, kind }) => ({ sequence, kind }));
}

describe('verifyAuditChain', () => {
  it('accepts an intact chain with valid checkpoints, and an empty log', () => {
    const entries = chain(10);
    const report = verify(entries, [checkpoint(at(entries, 4)), checkpoint(at(entries, 9))]);
    expect(report).toEqual({
      ok: true,
      entries: 10,
      checkpoints: 2,
      lastSequence: 10,
      problems: [],
    });
    expect(verify([]).ok).toBe(true);
  });

  it('reports a modified entry at its sequence only', () => {
    const entries = chain(6);
    entries[2] = { ...at(entries, 2), details: { n: 999 } };
    expect(kinds(verify(entries))).toEqual([{ sequence: 3, kind: 'modified' }]);
  });

  it('reports a modified and re-hashed entry as a broken link after it', () => {
    const entries = chain(6);
    const { hash: _hash, ...content } = { ...at(entries, 2), details: { n: 999 } };
    const checkpointAtFive = checkpoint(at(entries, 4));
    entries[2] = { ...content, hash: hashAuditEntry(content) };
    expect(kinds(verify(entries, [checkpointAtFive]))).toEqual([
      { sequence: 4, kind: 'broken-link' },
    ]);
  });

  it('reports deleted entries as missing, once per gap, including the first entry', () => {
    const entries = chain(8);
    const report = verify([
      at(entries, 1),
      at(entries, 2),
      at(entries, 5),
      at(entries, 6),
      at(entries, 7),
    ]);
    expect(kinds(report)).toEqual([
      { sequence: 1, kind: 'missing' },
      { sequence: 4, kind: 'missing' },
    ]);
    expect(at(report.problems, 1).message).toMatch(/entries 4–5 are missing/);
  });

  it('reports swapped entries as reordered, adjacent or not', () => {
    const entries = chain(8);
    const adjacent = [...entries];
    adjacent[2] = { ...at(entries, 3), sequence: 3 };
    adjacent[3] = { ...at(entries, 2), sequence: 4 };
    expect(kinds(verify(adjacent))).toEqual([
      { sequence: 3, kind: 'reordered' },
      { sequence: 4, kind: 'reordered' },
    ]);
    const distant = [...entries];
    distant[0] = { ...at(entries, 6), sequence: 1 };
    distant[6] = { ...at(entries, 0), sequence: 7 };
    const report = verify(distant);
    expect(kinds(report)).toContainEqual({ sequence: 1, kind: 'reordered' });
    expect(kinds(report)).toContainEqual({ sequence: 7, kind: 'reordered' });
    expect(report.problems.find((problem) => problem.sequence === 1)?.message).toMatch(
      /written as entry 7/,
    );
  });

  it('reports forged signatures, unknown keys, mismatching checkpoints and truncation', () => {
    const entries = chain(12);
    const forged = {
      ...checkpoint(at(entries, 3)),
      signature: Buffer.alloc(64).toString('base64'),
    };
    const unknownKey = { ...checkpoint(at(entries, 5)), keyId: 'ffffffffffffffff' };
    const wrongHash = { ...checkpoint(at(entries, 7)), hash: at(entries, 6).hash };
    const beyondEnd = checkpoint(at(entries, 11));
    const report = verify(entries.slice(0, 10), [forged, unknownKey, wrongHash, beyondEnd]);
    expect(kinds(report)).toEqual([
      { sequence: 4, kind: 'bad-signature' },
      { sequence: 6, kind: 'bad-signature' },
      { sequence: 8, kind: 'bad-signature' },
      { sequence: 8, kind: 'checkpoint-mismatch' },
      { sequence: 12, kind: 'truncated' },
    ]);
  });

  it('stays linear and shallow on a long, thoroughly corrupted log', () => {
    const entries = chain(20_000).map((entry) => ({ ...entry, details: { n: -1 } }));
    const report = verify(entries);
    expect(report.problems).toHaveLength(20_000);
    expect(new Set(report.problems.map((problem) => problem.kind))).toEqual(new Set(['modified']));
  });
});
