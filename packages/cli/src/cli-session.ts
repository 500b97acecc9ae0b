import type { Command } from 'commander';
import { CliError } from './cli-error.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { createPlatformClient, type PlatformClient } from './platform-client.ts';
import type { PlatformStartOptions } from './platform-process.ts';
import { createTerminalStyle, shouldUseColor, type TerminalStyle } from './terminal-style.ts';

/** A stream the CLI writes to; `process.stdout`/`process.stderr` in production. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Everything the CLI touches outside itself, passed in so tests can drive it in-process. */
export interface CitadelProgramDeps {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof globalThis.fetch;
  /** Runs the platform in the foreground for `citadel up`; resolves with the exit code. */
  startPlatform?: (options: PlatformStartOptions) => Promise<number>;
  /** Asks the user a question; absent when stdin is not a terminal. */
  prompt?: (question: string) => Promise<string>;
  /** Defaults to a `setTimeout` promise. */
  sleep?: (milliseconds: number) => Promise<void>;
  /** Milliseconds clock; defaults to `Date.now`. */
  now?: () => number;
}

/** `--output`: text for people, json for scripts. */
export type OutputFormat = 'text' | 'json';

/** The global options as commander parsed them. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  output?: OutputFormat;
  color?: boolean;
}

/** Where the CLI looks for the platform when neither --url nor CITADEL_URL says. */
export const DEFAULT_PLATFORM_URL = 'http://localhost:8080';

/** One invocation's view of the world: where the platform is and how to print. */
export interface CliSession {
  client: PlatformClient;
  output: OutputFormat;
  hasToken: boolean;
  stdoutStyle: TerminalStyle;
  stderrStyle: TerminalStyle;
  /** Writes lines of text to stdout. */
  print(lines: readonly string[]): void;
  /** Writes the one JSON document of `--output json` to stdout. */
  printJson(value: unknown): void;
}

/** Output settings alone, usable even when the URL is bad (to report that very error). */
export function resolveOutputSettings(
  options: GlobalOptions,
  deps: Pick<CitadelProgramDeps, 'env' | 'stdout' | 'stderr'>,
): Pick<CliSession, 'output' | 'hasToken' | 'stdoutStyle' | 'stderrStyle'> {
  const colorFlag = options.color ?? true;
  return {
    output: options.output ?? 'text',
    hasToken: resolveToken(options, deps.env) !== undefined,
    stdoutStyle: createTerminalStyle(shouldUseColor(deps.stdout, deps.env, colorFlag)),
    stderrStyle: createTerminalStyle(shouldUseColor(deps.stderr, deps.env, colorFlag)),
  };
}

function resolveToken(options: GlobalOptions, env: CitadelProgramDeps['env']): string | undefined {
  const token = options.token ?? env.CITADEL_ADMIN_TOKEN;
  return token === '' ? undefined : token;
}

/** Resolves flags over environment over defaults, and builds the platform client. */
export function createCliSession(command: Command, deps: CitadelProgramDeps): CliSession {
  const options = command.optsWithGlobals<GlobalOptions>();
  const baseUrl = parsePlatformUrl(options.url ?? deps.env.CITADEL_URL ?? DEFAULT_PLATFORM_URL);
  const client = createPlatformClient({
    baseUrl,
    token: resolveToken(options, deps.env),
    fetch: deps.fetch,
  });
  return {
    ...resolveOutputSettings(options, deps),
    client,
    print(lines) {
      if (lines.length > 0) deps.stdout.write(`${lines.join('\n')}\n`);
    },
    printJson(value) {
      deps.stdout.write(`${JSON.stringify(value, undefined, 2)}\n`);
    },
  };
}

function parsePlatformUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidUrl(text);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidUrl(text);
  return url.href;
}

function invalidUrl(text: string): CliError {
  return new CliError({
    exitCode: EXIT_CODES.usage,
    code: 'invalid-url',
    title: 'Invalid platform URL',
    detail: `"${text}" is not an http(s) URL (from --url or CITADEL_URL)`,
  });
}
