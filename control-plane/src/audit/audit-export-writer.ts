import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AUDIT_EXPORT_FILES,
  type AuditCheckpoint,
  type AuditCheckpointsFile,
  type AuditSigningKeysFile,
} from '@citadel/contracts/audit';
import { AuditError } from './audit-error.ts';
import type { AuditLog } from './audit-log.ts';
import type { AuditSigner } from './audit-signer.ts';

export interface AuditExportWriterDeps {
  auditLog: Pick<AuditLog, 'checkpoint' | 'checkpoints' | 'entries'>;
  signer: Pick<AuditSigner, 'publicKeys'>;
}

/** What an audit export holds, for the export's manifest. */
export interface AuditExportSummary {
  entries: number;
  /** The final checkpoint's sequence: the export ends there (0 for an empty log). */
  lastSequence: number;
  /** The key ids that signed its checkpoints; compare them with the platform's published keys. */
  signingKeyIds: string[];
}

/** Files of an export are private to the platform's OS user. */
const FILE_MODE = 0o600;

/** Signs the head now, so the export ends with a checkpoint over its last entry. */
async function finalCheckpoint(
  auditLog: AuditExportWriterDeps['auditLog'],
  tenantId: string,
): Promise<AuditCheckpoint | undefined> {
  try {
    return await auditLog.checkpoint(tenantId);
  } catch (error) {
    if (error instanceof AuditError && error.code === 'audit-log-empty') return undefined;
    throw error;
  }
}

async function* entryLines(
  auditLog: AuditExportWriterDeps['auditLog'],
  tenantId: string,
  through: number,
  counter: { entries: number },
): AsyncGenerator<string> {
  for await (const entry of auditLog.entries(tenantId)) {
    // Entries appended after the final checkpoint are not vouched for: they stay out.
    if (entry.sequence > through) return;
    counter.entries += 1;
    yield `${JSON.stringify(entry)}\n`;
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, undefined, 2)}\n`, {
    mode: FILE_MODE,
    flag: 'wx',
  });
}

/**
 * Writes a tenant's audit log into `directory` as a self-verifying export (see
 * `AUDIT_EXPORT_FILES`): the entries as NDJSON, exactly as `GET …/audit/export` streams
 * them, every checkpoint including one signed now over the last entry, and the public keys.
 * `citadel audit verify --file <directory>/audit.ndjson` checks it without the platform.
 * The caller makes the files durable (fsync) and seals the directory.
 */
export async function writeAuditExport(
  deps: AuditExportWriterDeps,
  tenantId: string,
  directory: string,
): Promise<AuditExportSummary> {
  const final = await finalCheckpoint(deps.auditLog, tenantId);
  const through = final?.sequence ?? 0;
  const checkpoints = (await deps.auditLog.checkpoints(tenantId)).filter(
    (checkpoint) => checkpoint.sequence <= through,
  );
  const counter = { entries: 0 };
  await pipeline(
    Readable.from(entryLines(deps.auditLog, tenantId, through, counter)),
    createWriteStream(path.join(directory, AUDIT_EXPORT_FILES.entries), {
      mode: FILE_MODE,
      flags: 'wx',
    }),
  );
  const checkpointsFile: AuditCheckpointsFile = { tenantId, checkpoints };
  await writeJson(path.join(directory, AUDIT_EXPORT_FILES.checkpoints), checkpointsFile);
  const keysFile: AuditSigningKeysFile = { keys: deps.signer.publicKeys() };
  await writeJson(path.join(directory, AUDIT_EXPORT_FILES.signingKeys), keysFile);
  return {
    entries: counter.entries,
    lastSequence: through,
    signingKeyIds: [...new Set(checkpoints.map((checkpoint) => checkpoint.keyId))],
  };
}
