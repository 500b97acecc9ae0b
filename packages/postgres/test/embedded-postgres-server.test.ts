import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/embedded-postgres-server.ts';
import type { EmbeddedPostgres } from '../src/embedded-postgres-server.ts';

const serverModule = new URL('../src/embedded-postgres-server.ts', import.meta.url).href;
const directories: string[] = [];

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'citadel-embedded-pg-test-'));
  directories.push(dir);
  await chmod(dir, 0o711); // as root, the server runs as the postgres user, which must enter it
  return join(dir, 'postgres');
}

async function query<T extends pg.QueryResultRow>(
  connectionString: string,
  sql: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Running and not a zombie (an orphan's pid lingers until its new parent reaps it). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const procStat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return procStat.charAt(procStat.lastIndexOf(')') + 2) !== 'Z';
}

async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 500 && isAlive(pid); i += 1) await sleep(20);
}

afterAll(async () => {
  await Promise.all(directories.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('startEmbeddedPostgres', () => {
  it('initialises once, keeps data across a clean restart, and applies the platform settings', async () => {
    const dataDir = await freshDataDir();
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      expect(first.timings.initialiseMs).toBeGreaterThan(0);
      expect(first.connectionString).toMatch(
        /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/,
      );
      const [settings] = await query<{
        max_connections: string;
        listen: string;
        encryption: string;
      }>(
        first.connectionString,
        "SELECT current_setting('max_connections') AS max_connections, current_setting('listen_addresses') AS listen, current_setting('password_encryption') AS encryption",
      );
      expect(Number(settings?.max_connections)).toBeGreaterThanOrEqual(300);
      expect(settings?.listen).toBe('127.0.0.1');
      expect(settings?.encryption).toBe('scram-sha-256');
      await query(
        first.connectionString,
        'CREATE TABLE kept (value text); INSERT INTO kept VALUES ($$clean$$)',
      );
    } finally {
      await first.stop();
    }
    expect(isAlive(first.pid)).toBe(false);
    const passwordFile = await stat(join(dataDir, 'superuser-password'));
    expect(passwordFile.mode & 0o777).toBe(0o600);

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect(second.timings.initialiseMs).toBeUndefined();
      expect(await query(second.connectionString, 'SELECT value FROM kept')).toEqual([
        { value: 'clean' },
      ]);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('rejects a wrong password (scram-sha-256 authentication)', async () => {
    const server = await startEmbeddedPostgres({ dataDir: await freshDataDir() });
    try {
      const wrong = new URL(server.connectionString);
      wrong.password = 'not-the-password';
      await expect(query(wrong.toString(), 'SELECT 1')).rejects.toThrow(
        /password authentication failed/,
      );
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('refuses a second start on a data directory in use', async () => {
    const dataDir = await freshDataDir();
    const server = await startEmbeddedPostgres({ dataDir });
    try {
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/in use/);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('restarts on the same directory after its owner process was killed with SIGKILL', async () => {
    const dataDir = await freshDataDir();
    // The owner: a child Node process that starts the server, writes, and waits to be killed.
    const script = `
      const { startEmbeddedPostgres } = await import(${JSON.stringify(serverModule)});
      const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: server.connectionString });
      await client.connect();
      await client.query("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('before kill -9')");
      await client.end();
      console.log(JSON.stringify({ pid: server.pid }));
      setInterval(() => undefined, 1000);
    `;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolveLine, reject) => {
      owner.stdout.setEncoding('utf8');
      owner.stdout.on('data', (chunk: string) => resolveLine(chunk));
      owner.once('exit', (code) => reject(new Error(`owner exited early (${code})`)));
    });
    const orphan = (JSON.parse(line) as { pid: number }).pid;
    owner.kill('SIGKILL');
    await new Promise((resolveExit) => owner.once('exit', resolveExit));
    expect(isAlive(orphan)).toBe(true); // postgres runs on in its own process group

    const restarted = await startEmbeddedPostgres({ dataDir });
    try {
      expect(restarted.pid).not.toBe(orphan);
      expect(isAlive(orphan)).toBe(false);
      expect(await query(restarted.connectionString, 'SELECT value FROM kept')).toEqual([
        { value: 'before kill -9' },
      ]);
    } finally {
      await restarted.stop();
    }
  }, 60_000);

  it('restarts on the same directory after the postmaster itself was killed with SIGKILL', async () => {
    const dataDir = await freshDataDir();
    let unexpectedExit: string | undefined;
    const crashed: EmbeddedPostgres = await startEmbeddedPostgres({
      dataDir,
      onUnexpectedExit: (status) => (unexpectedExit = status),
    });
    await query(
      crashed.connectionString,
      "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('committed')",
    );
    process.kill(crashed.pid, 'SIGKILL');
    await waitUntilGone(crashed.pid);
    for (let i = 0; i < 100 && unexpectedExit === undefined; i += 1) await sleep(10);
    expect(unexpectedExit).toBe('SIGKILL');
    expect((await stat(join(dataDir, 'pgdata', 'postmaster.pid'))).isFile()).toBe(true); // stale

    const restarted = await startEmbeddedPostgres({ dataDir });
    try {
      expect(await query(restarted.connectionString, 'SELECT value FROM kept')).toEqual([
        { value: 'committed' },
      ]);
    } finally {
      await restarted.stop();
      await crashed.stop(); // no-op on a dead server, must not release the new claim
    }
    const again = await startEmbeddedPostgres({ dataDir });
    await again.stop();
  }, 60_000);
});
