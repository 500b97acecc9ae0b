import { PROBLEM_TYPE_BASE, type ProblemDetails } from '@citadel/contracts';
import { EXIT_CODES, exitCodeForHttpStatus } from './exit-codes.ts';
import { PlatformApiError, PlatformUnreachableError } from './platform-client.ts';
import type { TerminalStyle } from './terminal-style.ts';

/** Problem types for failures the CLI itself detects (no HTTP status of their own). */
export const CLI_PROBLEM_TYPE_BASE = `${PROBLEM_TYPE_BASE}cli/`;

/**
 * A problem report as the CLI prints it: the platform's {@link ProblemDetails}, or one the
 * CLI made up, which has no HTTP `status`.
 */
export interface CliProblem {
  type: string;
  title: string;
  status?: number;
  detail?: string;
  errors?: ProblemDetails['errors'];
  [extension: string]: unknown;
}

/** Inputs of {@link CliError}. */
export interface CliErrorOptions {
  exitCode: number;
  /** Last segment of the problem type, e.g. `wait-timeout`. */
  code: string;
  title: string;
  detail?: string;
  /** Print nothing: whoever failed (the platform process under `up`) already said why. */
  quiet?: boolean;
}

/** A failure the CLI detects itself, with the exit code it ends the process with. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly problem: CliProblem;
  readonly quiet: boolean;

  constructor(options: CliErrorOptions) {
    super(options.detail === undefined ? options.title : `${options.title}: ${options.detail}`);
    this.name = 'CliError';
    this.exitCode = options.exitCode;
    this.quiet = options.quiet ?? false;
    this.problem = {
      type: `${CLI_PROBLEM_TYPE_BASE}${options.code}`,
      title: options.title,
      ...(options.detail === undefined ? {} : { detail: options.detail }),
    };
  }
}

/** What to print and which exit code to use for any error a command threw. */
export interface ErrorReport {
  exitCode: number;
  problem: CliProblem;
  quiet: boolean;
}

/** Classifies an error: platform problems keep their RFC 7807 body, the rest get one. */
export function toErrorReport(error: unknown): ErrorReport {
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, problem: error.problem, quiet: error.quiet };
  }
  if (error instanceof PlatformApiError) {
    return { exitCode: exitCodeForHttpStatus(error.status), problem: error.problem, quiet: false };
  }
  if (error instanceof PlatformUnreachableError) {
    const problem = {
      type: `${CLI_PROBLEM_TYPE_BASE}platform-unreachable`,
      title: 'Platform unreachable',
      detail: error.message,
    };
    return { exitCode: EXIT_CODES.unavailable, problem, quiet: false };
  }
  const detail = error instanceof Error ? error.message : String(error);
  const problem = { type: `${CLI_PROBLEM_TYPE_BASE}unexpected`, title: 'Unexpected error', detail };
  return { exitCode: EXIT_CODES.unexpected, problem, quiet: false };
}

/** What {@link formatErrorReport} needs to give advice for the errors users meet most. */
export interface ErrorHintContext {
  /** Whether a token was given (flag or environment). */
  hasToken: boolean;
}

/** `error: <title>: <detail>`, the field errors, and a hint where one helps. */
export function formatErrorReport(
  report: ErrorReport,
  context: ErrorHintContext,
  style: TerminalStyle,
): string[] {
  const { problem } = report;
  const detail = problem.detail === undefined || problem.detail === '' ? '' : `: ${problem.detail}`;
  const lines = [`${style.red('error:')} ${problem.title}${detail}`];
  for (const fieldError of problem.errors ?? []) {
    lines.push(`  - ${fieldError.path === '' ? '(body)' : fieldError.path}: ${fieldError.message}`);
  }
  const hint = hintFor(report.exitCode, context);
  if (hint !== undefined) lines.push(style.dim(`hint: ${hint}`));
  return lines;
}

function hintFor(exitCode: number, context: ErrorHintContext): string | undefined {
  if (exitCode === EXIT_CODES.auth && !context.hasToken) {
    return 'pass --token or set CITADEL_ADMIN_TOKEN (printed by the platform at first start)';
  }
  if (exitCode === EXIT_CODES.unavailable) {
    return 'is the platform running? Start it with `npx citadel up`, or point --url/CITADEL_URL at it';
  }
  return undefined;
}
