import { setTimeout as delay } from 'node:timers/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { addAuditCommands } from './audit-commands.ts';
import { CliError, formatErrorReport, toErrorReport } from './cli-error.ts';
import {
  DEFAULT_PLATFORM_URL,
  resolveOutputSettings,
  type CitadelProgramDeps,
  type GlobalOptions,
} from './cli-session.ts';
import { describeExitCodes, EXIT_CODES } from './exit-codes.ts';
import { addTenantCommands } from './tenant-commands.ts';

const ENVIRONMENT_HELP = `Environment:
  CITADEL_URL          platform URL (default ${DEFAULT_PLATFORM_URL}); --url wins
  CITADEL_ADMIN_TOKEN  platform-operator bearer token; --token wins
  NO_COLOR             disable colours, like --no-color`;

/**
 * Builds the `citadel` commander program. It never touches `process`: output, environment
 * and network come from `deps`, and commander's exits are turned into thrown
 * `CommanderError`s (see {@link runCitadel}).
 */
export function createCitadelProgram(deps: CitadelProgramDeps): Command {
  const resolvedDeps = { ...deps, sleep: deps.sleep ?? delay, now: deps.now ?? Date.now };
  const program = new Command('citadel')
    .description('Run the Citadel platform and manage its tenants.')
    .version(packageJson.version, '-V, --version')
    .option('--url <url>', `platform URL (env CITADEL_URL, default ${DEFAULT_PLATFORM_URL})`)
    .option('--token <token>', 'platform-operator bearer token (env CITADEL_ADMIN_TOKEN)')
    .addOption(
      new Option('-o, --output <format>', 'text for people, json for scripts (stdout only)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--no-color', 'disable colours')
    .addHelpText('after', `\n${ENVIRONMENT_HELP}\n\n${describeExitCodes()}\n`)
    .showHelpAfterError('(run with --help for usage)')
    // Set before any subcommand exists: commander copies both onto subcommands.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => deps.stdout.write(text),
      writeErr: (text) => deps.stderr.write(text),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });

  addUpCommand(program, resolvedDeps);
  addTenantCommands(program, resolvedDeps);
  addAuditCommands(program, resolvedDeps);
  return program;
}

function addUpCommand(program: Command, deps: CitadelProgramDeps): void {
  program
    .command('up')
    .description('run the whole platform in the foreground (Ctrl-C stops it)')
    .option('--port <port>', 'HTTP port (env PORT, default 8080)', parsePort)
    .option('--data-dir <dir>', 'where state lives (env CITADEL_DATA_DIR, default ./.citadel)')
    .action(async (options: { port?: number; dataDir?: string }) => {
      if (deps.startPlatform === undefined) {
        throw new CliError({
          exitCode: EXIT_CODES.unexpected,
          code: 'up-unavailable',
          title: 'Cannot start the platform from here',
        });
      }
      const exitCode = await deps.startPlatform(options);
      if (exitCode !== 0) {
        // The platform has printed its own reasons; only the exit code is passed on.
        throw new CliError({
          exitCode,
          code: 'platform-exited',
          title: 'Platform exited',
          quiet: true,
        });
      }
    });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65_535) {
    throw new InvalidArgumentError('expected a port number between 1 and 65535');
  }
  return port;
}

/**
 * Runs `citadel` with `argv` (the arguments after the program name) and resolves with
 * the process exit code (see `EXIT_CODES`); errors are reported on `deps.stderr`.
 */
export async function runCitadel(
  deps: CitadelProgramDeps,
  argv: readonly string[],
): Promise<number> {
  const program = createCitadelProgram(deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_CODES.success;
  } catch (error) {
    // Commander has already printed its message (or the help/version it was asked for).
    if (error instanceof CommanderError)
      return error.exitCode === 0 ? EXIT_CODES.success : EXIT_CODES.usage;
    return reportError(error, program.opts<GlobalOptions>(), deps);
  }
}

function reportError(error: unknown, options: GlobalOptions, deps: CitadelProgramDeps): number {
  const report = toErrorReport(error);
  if (report.quiet) return report.exitCode;
  const settings = resolveOutputSettings(options, deps);
  if (settings.output === 'json') {
    deps.stderr.write(`${JSON.stringify(report.problem, undefined, 2)}\n`);
  } else {
    const lines = formatErrorReport(report, settings, settings.stderrStyle);
    deps.stderr.write(`${lines.join('\n')}\n`);
  }
  return report.exitCode;
}
