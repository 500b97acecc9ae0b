import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashAuditEntry, type AuditEntry } from '@citadel/contracts/audit';
import { withDatabase } from '@citadel/postgres';
import { queryRows, runCitadelCli, waitFor } from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';

/**
 * Deleting a tenant exports it first: the whole platform in-process on a real PostgreSQL,
 * a tenant with data and an audit trail, DELETE, and then the export left behind is checked
 * file by file, its audit log verified offline by the real CLI, tampered with, and its
 * database dump searched for the row written before the deletion.
 */
const SLUG = 'export-me';
const MARKER = 'a row the tenant must take with it';

interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

interface Manifest {
  format: string;
  tenant: { slug: string; uid: string };
  audit: { entries: number; lastSequence: number; signingKeyIds: string[] };
  database: { method: 'pg_dump' | 'copy-csv' | 'none'; note: string };
  files: ManifestFile[];
}

let fixture: PlatformFixture;
let scratch: string;
/** Set by the first test: the export directory and what it was made from. */
let exported: { directory: string; manifest: Manifest; uid: string; apiKey: string };

beforeAll(async () => {
  fixture = await startPlatformFixture();
  scratch = await mkdtemp(path.join(tmpdir(), 'citadel-export-test-'));
});

afterAll(async () => {
  await fixture.close();
  await rm(scratch, { recursive: true, force: true });
});

async function writeTenantRow(): Promise<void> {
  const databaseName = `citadel_${fixture.platform.instanceId}_${SLUG.replaceAll('-', '_')}`;
  const url = withDatabase(fixture.postgres.url, databaseName);
  await queryRows(url, 'CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
  await queryRows(url, 'INSERT INTO notes VALUES (1, $1)', [MARKER]);
}

async function issueApiKey(name: string): Promise<string> {
  const response = await fixture.api(`/api/v1/tenants/${SLUG}/api-keys`, {
    method: 'POST',
    body: JSON.stringify({ name }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { key: string }).key;
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Every file under `directory`, relative and `/`-separated. */
async function listFiles(directory: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory())
      files.push(...(await listFiles(path.join(directory, entry.name), relative)));
    else files.push(relative);
  }
  return files.sort();
}

async function verifyOffline(file: string) {
  return runCitadelCli(['audit', 'verify', '--file', file], {
    url: fixture.platform.url,
    token: ADMIN_TOKEN,
  });
}

/** A copy of the export's audit files to tamper with, leaving the original intact. */
async function auditCopy(name: string): Promise<string> {
  const directory = path.join(scratch, name);
  await cp(exported.directory, directory, { recursive: true });
  return path.join(directory, 'audit.ndjson');
}

async function readEntries(file: string): Promise<AuditEntry[]> {
  const text = await readFile(file, 'utf8');
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEntry);
}

async function writeEntries(file: string, entries: AuditEntry[]): Promise<void> {
  await writeFile(file, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
}

describe('tenant deletion exports the tenant first', () => {
  it(
    'leaves a complete, private export once the tenant is gone',
    { timeout: 120_000 },
    async () => {
      const created = await fixture.api('/api/v1/tenants', {
        method: 'POST',
        body: JSON.stringify({ slug: SLUG, displayName: 'Export Me', plan: 'starter' }),
      });
      expect(created.status).toBe(202);
      const ready = await fixture.waitForPhase(SLUG, 'Ready', 60_000);
      await writeTenantRow();
      const apiKey = await issueApiKey('first');
      await issueApiKey('second');

      expect((await fixture.api(`/api/v1/tenants/${SLUG}`, { method: 'DELETE' })).status).toBe(202);
      await waitFor(
        async () =>
          (await fixture.api(`/api/v1/tenants/${SLUG}`)).status === 404 ? true : undefined,
        { timeoutMs: 60_000, description: `${SLUG} to be deleted` },
      );

      const root = path.join(fixture.dataDir, 'exports');
      const names = await readdir(root);
      expect(names).toHaveLength(1);
      const name = names[0] ?? '';
      expect(name).toMatch(new RegExp(`^${SLUG}-${ready.metadata.uid}-\\d{8}T\\d{6}Z$`));
      const directory = path.join(root, name);
      const manifest = JSON.parse(
        await readFile(path.join(directory, 'manifest.json'), 'utf8'),
      ) as Manifest;
      exported = { directory, manifest, uid: ready.metadata.uid, apiKey };

      expect(manifest).toMatchObject({
        format: 'citadel.tenant-export/v1',
        tenant: { slug: SLUG, uid: ready.metadata.uid },
      });
      expect((await stat(root)).mode & 0o777).toBe(0o700);
      expect((await stat(directory)).mode & 0o777).toBe(0o700);
      // The manifest lists every other file, each with its size and digest, all private.
      const onDisk = (await listFiles(directory)).filter((file) => file !== 'manifest.json');
      expect(manifest.files.map((file) => file.path)).toEqual(onDisk);
      expect(onDisk).toEqual(
        expect.arrayContaining([
          'tenant.json',
          'audit.ndjson',
          'audit-checkpoints.json',
          'audit-signing-keys.json',
        ]),
      );
      for (const file of manifest.files) {
        const content = await readFile(path.join(directory, file.path));
        expect({ path: file.path, bytes: content.length, sha256: sha256(content) }).toEqual(file);
        expect((await stat(path.join(directory, file.path))).mode & 0o777).toBe(0o600);
      }
    },
  );

  it('holds the tenant resource and plan, and no secret', async () => {
    const record = JSON.parse(
      await readFile(path.join(exported.directory, 'tenant.json'), 'utf8'),
    ) as { tenant: { metadata: { uid: string }; spec: { plan: string } }; plan: { id: string } };
    expect(record.tenant.metadata.uid).toBe(exported.uid);
    expect(record.plan.id).toBe(record.tenant.spec.plan);
    for (const file of exported.manifest.files) {
      const content = await readFile(path.join(exported.directory, file.path), 'utf8');
      expect(content).not.toContain(exported.apiKey);
      expect(content).not.toMatch(/PRIVATE KEY/);
    }
  });

  it('holds the whole audit log, ending with a checkpoint signed at export time', async () => {
    const entries = await readEntries(path.join(exported.directory, 'audit.ndjson'));
    expect(entries.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['tenant.created', 'api-key.issued', 'tenant.deletion-requested']),
    );
    expect(entries.map((entry) => entry.sequence)).toEqual(entries.map((_, index) => index + 1));
    const { checkpoints } = JSON.parse(
      await readFile(path.join(exported.directory, 'audit-checkpoints.json'), 'utf8'),
    ) as { checkpoints: Array<{ sequence: number; hash: string }> };
    expect(checkpoints.at(-1)).toMatchObject({
      sequence: entries.length,
      hash: entries.at(-1)?.hash,
    });
    expect(exported.manifest.audit).toMatchObject({
      entries: entries.length,
      lastSequence: entries.length,
    });
  });

  it('verifies offline with the CLI, and fails with exit 9 once a line is changed', async () => {
    const intact = await verifyOffline(path.join(exported.directory, 'audit.ndjson'));
    expect(intact.stderr).toBe('');
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/ok \(\d+ entries, \d+ checkpoints\)/);
    expect(intact.stdout).toContain(exported.manifest.audit.signingKeyIds[0] ?? 'missing key id');

    const edited = await auditCopy('edited');
    const entries = await readEntries(edited);
    const victim = entries.find((entry) => entry.action === 'api-key.issued');
    if (!victim) throw new Error('no api-key.issued entry');
    victim.target = { ...victim.target, id: 'someone-else' };
    await writeEntries(edited, entries);
    const tampered = await verifyOffline(edited);
    expect(tampered.code).toBe(9);
    expect(tampered.stdout).toContain('TAMPERED');
    expect(tampered.stdout).toMatch(new RegExp(`#${victim.sequence}\\s+modified`));
  });

  it('answers a missing export with exit 3 and a verify without subject with exit 2', async () => {
    const missing = await verifyOffline(path.join(scratch, 'nowhere', 'audit.ndjson'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/does not exist/);
    const neither = await runCitadelCli(['audit', 'verify'], {
      url: fixture.platform.url,
      token: ADMIN_TOKEN,
    });
    expect(neither.code).toBe(2);
  });

  it('fails with exit 9 when a checkpoint signature is forged', async () => {
    const forged = await auditCopy('forged');
    const file = path.join(path.dirname(forged), 'audit-checkpoints.json');
    const content = JSON.parse(await readFile(file, 'utf8')) as {
      checkpoints: Array<{ signature: string }>;
    };
    const last = content.checkpoints.at(-1);
    if (!last) throw new Error('no checkpoint');
    last.signature = Buffer.alloc(64, 7).toString('base64');
    await writeFile(file, JSON.stringify(content));
    const result = await verifyOffline(forged);
    expect(result.code).toBe(9);
    expect(result.stdout).toContain('bad-signature');
  });

  it('rejects entries appended after the final checkpoint, even with valid hashes', async () => {
    const appended = await auditCopy('appended');
    const entries = await readEntries(appended);
    const last = entries.at(-1);
    if (!last) throw new Error('empty export');
    const { hash: _hash, ...content } = {
      ...last,
      sequence: last.sequence + 1,
      action: 'tenant.resumed',
      previousHash: last.hash,
    };
    entries.push({ ...content, hash: hashAuditEntry(content) });
    await writeEntries(appended, entries);
    const result = await verifyOffline(appended);
    expect(result.code).toBe(9);
    expect(result.stdout).toMatch(new RegExp(`#${last.sequence + 1}\\s+unvouched`));
  });

  it('holds a dump of the tenant database with the row written before deletion', async () => {
    const { database } = exported.manifest;
    const files = exported.manifest.files.map((file) => file.path);
    if (database.method === 'pg_dump') {
      // DATABASE_URL's PostgreSQL 15 comes with its pg_dump.
      expect(files).toContain('database.sql');
      const sql = await readFile(path.join(exported.directory, 'database.sql'), 'utf8');
      expect(sql).toContain('CREATE TABLE public.notes');
      expect(sql).toContain(MARKER);
    } else {
      // The embedded PostgreSQL 18 has no pg_dump 18 here: every table as CSV.
      expect(database.method).toBe('copy-csv');
      const csvFiles = files.filter((file) => file.endsWith('.csv'));
      const contents = await Promise.all(
        csvFiles.map((file) => readFile(path.join(exported.directory, file), 'utf8')),
      );
      expect(contents.join('\n')).toContain(`1,${MARKER}`);
      expect(files).toContain('database/tables.json');
    }
    // And the tenant's own database and role are gone.
    const left = await queryRows<{ name: string }>(
      fixture.postgres.url,
      `SELECT datname AS name FROM pg_database WHERE datname LIKE $1
        UNION SELECT rolname FROM pg_roles WHERE rolname LIKE $1`,
      [`%\\_${SLUG.replaceAll('-', '\\_')}`],
    );
    expect(left).toEqual([]);
  });
});
