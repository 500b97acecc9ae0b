// Entry point of `citadel`: the only module that reads process state. Everything else
// receives it through `runCitadel`'s dependencies.
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { CliError } from './cli-error.ts';
import type { CitadelProgramDeps } from './cli-session.ts';
import { runCitadel } from './citadel-program.ts';
import { EXIT_CODES } from './exit-codes.ts';
import {
  controlPlaneEntryPath,
  runPlatformProcess,
  type PlatformStartOptions,
} from './platform-process.ts';

function startPlatform(options: PlatformStartOptions): Promise<number> {
  const entryPath = controlPlaneEntryPath();
  if (!existsSync(entryPath)) {
    throw new CliError({
      exitCode: EXIT_CODES.unexpected,
      code: 'control-plane-missing',
      title: 'Control plane not found',
      detail: `expected its entry point at ${entryPath}`,
    });
  }
  return runPlatformProcess({
    ...options,
    entryPath,
    execPath: process.execPath,
    env: process.env,
    signals: process,
  });
}

async function prompt(question: string): Promise<string> {
  const readline = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await readline.question(question);
  } finally {
    readline.close();
  }
}

const deps: CitadelProgramDeps = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  fetch: globalThis.fetch,
  startPlatform,
  ...(process.stdin.isTTY ? { prompt } : {}),
};

process.exitCode = await runCitadel(deps, process.argv.slice(2));
