import type { Logger } from '../logger.ts';
import {
  Prisma,
  type AuditCheckpoint as AuditCheckpointRow,
  type AuditEntry as AuditEntryRow,
  type PrismaClient,
} from '../generated/prisma/client.ts';
import { verifyAuditChain, type AuditVerificationReport } from './audit-chain-verifier.ts';
import {
  checkpointStatement,
  GENESIS_HASH,
  hashAuditEntry,
  type AuditActor,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditEvent,
  type AuditTarget,
} from './audit-entry.ts';
import { AuditError } from './audit-error.ts';
import type { AuditSigner } from './audit-signer.ts';
import type { JsonValue } from '@citadel/contracts';

export interface AuditLogDeps {
  prisma: PrismaClient;
  signer: AuditSigner;
  logger: Logger;
  /** A signed checkpoint is written after every this many entries (default 100). */
  checkpointEvery?: number;
}

/** A page of entries, newest first; `nextCursor` continues to older entries. */
export interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | undefined;
}

export interface AuditListQuery {
  limit: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string | undefined;
  /** Only entries with exactly this action. */
  action?: string | undefined;
  /** Only entries that occurred at or after this time. */
  since?: Date | undefined;
  /** Only entries that occurred before this time. */
  until?: Date | undefined;
}

export const DEFAULT_CHECKPOINT_EVERY = 100;
/** First key of the two-key advisory lock that serialises one tenant's appends. */
const APPEND_LOCK_NAMESPACE = 0x617564; // 'aud'
const READ_BATCH_SIZE = 500;
/** Appends wait for each other; the default 2 s wait for a connection is too short under bursts. */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 15_000 };

type Transaction = Prisma.TransactionClient;

function toEntry(row: AuditEntryRow): AuditEntry {
  return {
    tenantId: row.tenantId,
    sequence: Number(row.sequence),
    occurredAt: row.occurredAt.toISOString(),
    actor: row.actor as unknown as AuditActor,
    action: row.action,
    target: row.target as unknown as AuditTarget,
    outcome: row.outcome as AuditEntry['outcome'],
    details: row.details as Record<string, JsonValue>,
    previousHash: row.previousHash,
    hash: row.hash,
  };
}

function toCheckpoint(row: AuditCheckpointRow): AuditCheckpoint {
  return {
    tenantId: row.tenantId,
    sequence: Number(row.sequence),
    hash: row.hash,
    signature: row.signature,
    keyId: row.keyId,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The JSON form the database will give back, so that what is hashed is what is stored. */
function asStoredJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function encodeCursor(sequence: number): string {
  return Buffer.from(String(sequence), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[1-9]\d{0,17}$/.test(text)) {
    throw new AuditError('invalid-cursor', 'The cursor is not one this API returned.');
  }
  return BigInt(text);
}

function isForeignKeyViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003';
}

/**
 * A tenant's append-only, hash-chained audit log with signed checkpoints. Appends of one
 * tenant are serialised by a transaction-scoped advisory lock, so the chain never forks
 * and sequence numbers have no gaps, whatever the number of platform processes.
 */
export function createAuditLog(deps: AuditLogDeps) {
  const { prisma, signer } = deps;
  const checkpointEvery = deps.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) {
    throw new RangeError('checkpointEvery must be a positive integer');
  }

  async function lockTenantLog(tx: Transaction, tenantId: string): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${APPEND_LOCK_NAMESPACE}::int4, hashtext(${tenantId}::text))`;
  }

  async function lastEntry(tx: Transaction, tenantId: string) {
    return tx.auditEntry.findFirst({
      where: { tenantId },
      orderBy: { sequence: 'desc' },
      select: { sequence: true, hash: true },
    });
  }

  async function writeCheckpoint(
    tx: Transaction,
    tenantId: string,
    head: { sequence: bigint; hash: string },
  ): Promise<AuditCheckpoint> {
    const existing = await tx.auditCheckpoint.findUnique({
      where: { tenantId_sequence: { tenantId, sequence: head.sequence } },
    });
    if (existing) return toCheckpoint(existing);
    const statement = checkpointStatement(tenantId, Number(head.sequence), head.hash);
    const row = await tx.auditCheckpoint.create({
      data: {
        tenantId,
        sequence: head.sequence,
        hash: head.hash,
        signature: signer.sign(statement),
        keyId: signer.keyId,
      },
    });
    deps.logger.debug({ tenantId, sequence: Number(head.sequence) }, 'audit checkpoint signed');
    return toCheckpoint(row);
  }

  async function appendInTransaction(
    tx: Transaction,
    tenantId: string,
    event: AuditEvent,
  ): Promise<AuditEntry> {
    await lockTenantLog(tx, tenantId);
    const last = await lastEntry(tx, tenantId);
    const content: Omit<AuditEntry, 'hash'> = {
      tenantId,
      sequence: Number(last?.sequence ?? 0n) + 1,
      // Read under the lock, so times never go backwards along the chain within one clock.
      occurredAt: new Date().toISOString(),
      actor: asStoredJson(event.actor),
      action: event.action,
      target: asStoredJson(event.target),
      outcome: event.outcome,
      details: asStoredJson(event.details ?? {}),
      previousHash: last?.hash ?? GENESIS_HASH,
    };
    const entry: AuditEntry = { ...content, hash: hashAuditEntry(content) };
    await tx.auditEntry.create({
      data: {
        ...entry,
        sequence: BigInt(entry.sequence),
        occurredAt: new Date(entry.occurredAt),
        actor: entry.actor as unknown as Prisma.InputJsonObject,
        target: entry.target as unknown as Prisma.InputJsonObject,
        details: entry.details,
      },
    });
    if (entry.sequence % checkpointEvery === 0) {
      await writeCheckpoint(tx, tenantId, { sequence: BigInt(entry.sequence), hash: entry.hash });
    }
    return entry;
  }

  /** All entries of a tenant, oldest first, read in batches. */
  async function* entries(tenantId: string): AsyncGenerator<AuditEntry> {
    let after = 0n;
    for (;;) {
      const rows = await prisma.auditEntry.findMany({
        where: { tenantId, sequence: { gt: after } },
        orderBy: { sequence: 'asc' },
        take: READ_BATCH_SIZE,
      });
      for (const row of rows) yield toEntry(row);
      const last = rows.at(-1);
      if (rows.length < READ_BATCH_SIZE || last === undefined) return;
      after = last.sequence;
    }
  }

  return {
    /** Appends one entry to the tenant's chain; resolves once it is committed. */
    async append(tenantId: string, event: AuditEvent): Promise<AuditEntry> {
      try {
        return await prisma.$transaction(
          (tx) => appendInTransaction(tx, tenantId, event),
          TRANSACTION_OPTIONS,
        );
      } catch (error) {
        if (isForeignKeyViolation(error)) {
          throw new AuditError('tenant-not-found', `No tenant with id ${tenantId}.`);
        }
        throw error;
      }
    },

    /** Entries newest first, filtered; keyset-paginated by sequence. */
    async list(tenantId: string, query: AuditListQuery): Promise<AuditPage> {
      const rows = await prisma.auditEntry.findMany({
        where: {
          tenantId,
          ...(query.cursor === undefined ? {} : { sequence: { lt: decodeCursor(query.cursor) } }),
          ...(query.action === undefined ? {} : { action: query.action }),
          occurredAt: { gte: query.since, lt: query.until },
        },
        orderBy: { sequence: 'desc' },
        take: query.limit + 1,
      });
      const items = rows.slice(0, query.limit).map(toEntry);
      const last = items.at(-1);
      return {
        items,
        nextCursor: rows.length > query.limit && last ? encodeCursor(last.sequence) : undefined,
      };
    },

    entries,

    /** Signs the tenant's current head now (or returns the checkpoint already there). */
    async checkpoint(tenantId: string): Promise<AuditCheckpoint> {
      return prisma.$transaction(async (tx) => {
        await lockTenantLog(tx, tenantId);
        const head = await lastEntry(tx, tenantId);
        if (!head) throw new AuditError('audit-log-empty', 'The audit log has no entries yet.');
        return writeCheckpoint(tx, tenantId, head);
      }, TRANSACTION_OPTIONS);
    },

    /** The tenant's signed checkpoints, oldest first. */
    async checkpoints(tenantId: string): Promise<AuditCheckpoint[]> {
      const rows = await prisma.auditCheckpoint.findMany({
        where: { tenantId },
        orderBy: { sequence: 'asc' },
      });
      return rows.map(toCheckpoint);
    },

    /** Walks the tenant's whole chain and checks every checkpoint; see {@link verifyAuditChain}. */
    async verify(tenantId: string): Promise<AuditVerificationReport> {
      // Checkpoints first: entries appended while we read are then extra, never missing.
      const checkpointRows = await prisma.auditCheckpoint.findMany({
        where: { tenantId },
        orderBy: { sequence: 'asc' },
      });
      const all: AuditEntry[] = [];
      for await (const entry of entries(tenantId)) all.push(entry);
      return verifyAuditChain({
        tenantId,
        entries: all,
        checkpoints: checkpointRows.map(toCheckpoint),
        verifySignature: (keyId, statement, signature) =>
          signer.verify(keyId, statement, signature),
      });
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
