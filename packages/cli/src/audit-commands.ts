import type { Command } from 'commander';
import { CliError } from './cli-error.ts';
import { createCliSession, type CitadelProgramDeps } from './cli-session.ts';
import { EXIT_CODES } from './exit-codes.ts';
import type { AuditVerificationView } from './platform-client.ts';
import type { TerminalStyle } from './terminal-style.ts';

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
    .argument('<tenant>', 'tenant slug')
    .action(async (slug: string, _options: unknown, command: Command) => {
      const session = createCliSession(command, deps);
      const report = await session.client.verifyAuditLog(slug);
      if (session.output === 'json') session.printJson(report);
      else session.print(formatVerificationReport(slug, report, session.stdoutStyle));
      if (!report.ok) {
        throw new CliError({
          exitCode: EXIT_CODES.auditTampered,
          code: 'audit-tampered',
          title: 'Audit log tampered',
          detail: `${report.problems.length} problem(s) in the audit log of tenant "${slug}"`,
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

/** The text form of a verification report: a verdict, then one line per problem. */
export function formatVerificationReport(
  slug: string,
  report: AuditVerificationView,
  style: TerminalStyle,
): string[] {
  const counts = `${report.entries} entries, ${report.checkpoints} checkpoints`;
  if (report.ok) return [`audit log of ${slug}: ${style.green('ok')} (${counts})`];
  return [
    `audit log of ${slug}: ${style.red('TAMPERED')} (${counts}, ${report.problems.length} problems)`,
    ...report.problems.map(
      (problem) =>
        `  #${String(problem.sequence).padEnd(6)} ${problem.kind.padEnd(19)} ${problem.message}`,
    ),
  ];
}
