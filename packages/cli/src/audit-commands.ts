import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AUDIT_EXPORT_FILES,
  verifyAuditExport,
  type AuditCheckpointsFile,
  type AuditSigningKeysFile,
} from '@citadel/contracts/audit';
import type { Command } from 'commander';
import { CliError } from './cli-error.ts';
import { createCliSession, type CitadelProgramDeps, type CliSession } from './cli-session.ts';
import { EXIT_CODES } from './exit-codes.ts';
import type { AuditVerificationView } from './platform-client.ts';
import type { TerminalStyle } from './terminal-style.ts';

/** `audit verify` options: `--file` verifies an export offline instead of asking the platform. */
interface VerifyOptions {
  file?: string;
  checkpoints?: string;
  keys?: string;
}

/** The verdict of an offline verification, with what the reader should check by hand. */
interface ExportVerification extends AuditVerificationView {
  file: string;
  tenantId: string;
  /** The keys that signed the export's checkpoints: compare with the platform's published ones. */
  signingKeyIds: string[];
}

/** Adds `audit verify|export` to the program. */
export function addAuditCommands(program: Command, deps: CitadelProgramDeps): void {
  const audit = program
    .command('audit')
    .description("verify and export a tenant's tamper-evident audit log");

  audit
    .command('verify')
    .description(
      `check every entry's hash, the chain and the signed checkpoints (exit ${EXIT_CODES.auditTampered} when tampered)`,
    )
    .argument('[tenant]', 'tenant slug: the platform verifies its live log')
    .option(
      '--file <audit.ndjson>',
      `verify an exported log offline, with the ${AUDIT_EXPORT_FILES.checkpoints} and ${AUDIT_EXPORT_FILES.signingKeys} beside it`,
    )
    .option('--checkpoints <file>', 'the signed checkpoints (with --file; default: beside it)')
    .option(
      '--keys <file>',
      'the public keys to trust, e.g. saved from GET /api/v1/audit/signing-keys (with --file; default: the export’s own)',
    )
    .action(async (slug: string | undefined, options: VerifyOptions, command: Command) => {
      const session = createCliSession(command, deps);
      if (options.file !== undefined && slug === undefined) {
        const report = await verifyExportFile(options.file, options);
        reportVerification(session, report, {
          label: `export ${options.file}`,
          detail: `export ${options.file}`,
          notes: formatSigningKeys(report),
        });
      } else if (options.file === undefined && slug !== undefined) {
        const report = await session.client.verifyAuditLog(slug);
        reportVerification(session, report, { label: slug, detail: `tenant "${slug}"`, notes: [] });
      } else {
        throw new CliError({
          exitCode: EXIT_CODES.usage,
          code: 'invalid-arguments',
          title: 'Give a tenant or --file',
          detail: 'verify a tenant’s live log (`audit verify <tenant>`) or an export (`--file`)',
        });
      }
    });

  audit
    .command('export')
    .description('write every entry to stdout as JSON lines, oldest first')
    .argument('<tenant>', 'tenant slug')
    .action(async (slug: string, _options: unknown, command: Command) => {
      const session = createCliSession(command, deps);
      for await (const chunk of await session.client.exportAuditLog(slug)) {
        deps.stdout.write(chunk);
      }
    });
}

/** How a report is presented: its name in the verdict line and in the error detail. */
interface VerificationSubject {
  /** e.g. `acme`, or `export /path/audit.ndjson`. */
  label: string;
  /** e.g. `tenant "acme"`. */
  detail: string;
  /** Lines printed after the report in text output. */
  notes: string[];
}

/** Prints the report and fails with the tampered exit code when it found problems. */
function reportVerification(
  session: CliSession,
  report: AuditVerificationView,
  subject: VerificationSubject,
): void {
  if (session.output === 'json') session.printJson(report);
  else
    session.print([
      ...formatVerificationReport(subject.label, report, session.stdoutStyle),
      ...subject.notes,
    ]);
  if (!report.ok) {
    throw new CliError({
      exitCode: EXIT_CODES.auditTampered,
      code: 'audit-tampered',
      title: 'Audit log tampered',
      detail: `${report.problems.length} problem(s) in the audit log of ${subject.detail}`,
    });
  }
}

function formatSigningKeys(verified: ExportVerification): string[] {
  if (verified.signingKeyIds.length === 0) return [];
  return [
    `  tenant ${verified.tenantId}; checkpoints signed by key ${verified.signingKeyIds.join(', ')}`,
    '  (compare with the platform’s keys: GET /api/v1/audit/signing-keys)',
  ];
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CliError({
      exitCode: missing ? EXIT_CODES.notFound : EXIT_CODES.unexpected,
      code: missing ? 'file-not-found' : 'file-unreadable',
      title: missing ? `No ${what}` : `Cannot read the ${what}`,
      detail: missing ? `${file} does not exist` : (error as Error).message,
    });
  }
}

/** A JSON file of the export; unreadable content is tampering, like an edited entry. */
async function readJson<T>(file: string, what: string, isValid: (value: unknown) => boolean) {
  const text = await readText(file, what);
  try {
    const value = JSON.parse(text) as unknown;
    if (isValid(value)) return value as T;
  } catch {
    // Reported below, as for any other malformed content.
  }
  throw new CliError({
    exitCode: EXIT_CODES.auditTampered,
    code: 'audit-tampered',
    title: 'Audit log tampered',
    detail: `${file} is not a valid ${what}`,
  });
}

const hasArray = (field: string) => (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as Record<string, unknown>)[field]);

/** Verifies `file` (an exported `audit.ndjson`) with its checkpoints and keys, offline. */
async function verifyExportFile(file: string, options: VerifyOptions): Promise<ExportVerification> {
  const directory = path.dirname(file);
  const ndjson = await readText(file, 'audit export');
  const checkpoints = await readJson<AuditCheckpointsFile>(
    options.checkpoints ?? path.join(directory, AUDIT_EXPORT_FILES.checkpoints),
    'checkpoints file',
    (value) =>
      hasArray('checkpoints')(value) &&
      typeof (value as Record<string, unknown>).tenantId === 'string',
  );
  const keys = await readJson<AuditSigningKeysFile>(
    options.keys ?? path.join(directory, AUDIT_EXPORT_FILES.signingKeys),
    'signing keys file (JWK Set)',
    hasArray('keys'),
  );
  const report = verifyAuditExport({ ndjson, checkpoints, keys: keys.keys });
  return {
    ...report,
    file,
    tenantId: checkpoints.tenantId,
    signingKeyIds: [...new Set(checkpoints.checkpoints.map((checkpoint) => checkpoint.keyId))],
  };
}

/** The text form of a verification report: a verdict, then one line per problem. */
export function formatVerificationReport(
  subject: string,
  report: AuditVerificationView,
  style: TerminalStyle,
): string[] {
  const counts = `${report.entries} entries, ${report.checkpoints} checkpoints`;
  if (report.ok) return [`audit log of ${subject}: ${style.green('ok')} (${counts})`];
  return [
    `audit log of ${subject}: ${style.red('TAMPERED')} (${counts}, ${report.problems.length} problems)`,
    ...report.problems.map(
      (problem) =>
        `  #${String(problem.sequence).padEnd(6)} ${problem.kind.padEnd(19)} ${problem.message}`,
    ),
  ];
}
