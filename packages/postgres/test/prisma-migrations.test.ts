import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres } from '@citadel/test-utils';
import type { TestPostgres } from '@citadel/test-utils';
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlanePrismaPaths } from '../src/control-plane-database.ts';
import { createMigrationAdapterFactory } from '../src/migration-adapter-factory.ts';
import { createPrismaMigrations } from '../src/prisma-migrations.ts';
import { schemaEngineVersion } from '../src/schema-engine-wasm.ts';

// Prisma's WASM schema engine and adapter-pg internals are not a public API: these tests pin
// the behaviour we rely on (docs/adr/0002). They run on an embedded PostgreSQL 18 and, when
// DATABASE_URL is set, on that server too.
const targets: Array<[string, string]> = [['embedded PostgreSQL', '']];
if ((process.env.DATABASE_URL ?? '') !== '')
  targets.push(['DATABASE_URL', process.env.DATABASE_URL ?? '']);

async function rows<T extends pg.QueryResultRow>(
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

async function migrationNamesOnDisk(migrationsDir: string): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

describe.each(targets)('Prisma migrations on %s', (_label, databaseUrl) => {
  let postgres: TestPostgres;
  const scratch: string[] = [];

  beforeAll(async () => {
    postgres = await startTestPostgres({ databaseUrl });
  }, 60_000);

  afterAll(async () => {
    await postgres.stop();
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('uses the schema engine the Prisma CLI was built with', async () => {
    const cliEngines = JSON.parse(
      await readFile(new URL(import.meta.resolve('@prisma/engines-version/package.json')), 'utf8'),
    ) as {
      prisma: { enginesVersion: string };
    };
    expect(await schemaEngineVersion()).toBe(cliEngines.prisma.enginesVersion);
  });

  it('deploys the control plane migrations on an empty database: history complete, no diff, second deploy a no-op', async () => {
    const connectionString = await postgres.createDatabase('deploy');
    const migrations = createPrismaMigrations({ ...controlPlanePrismaPaths, connectionString });
    const onDisk = await migrationNamesOnDisk(controlPlanePrismaPaths.migrationsDir);
    expect(onDisk.length).toBeGreaterThan(0);

    expect(await migrations.status()).toMatchObject({
      upToDate: false,
      hasMigrationsTable: false,
      pendingMigrationNames: onDisk,
    });
    expect(await migrations.deploy()).toEqual({ appliedMigrationNames: onDisk });
    expect(await migrations.diff()).toBe('');

    const history = await rows<{
      migration_name: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
    }>(
      connectionString,
      'SELECT migration_name, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(history.map((row) => row.migration_name)).toEqual(onDisk);
    for (const row of history) {
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    const status = await migrations.status();
    expect(status).toMatchObject({
      upToDate: true,
      hasMigrationsTable: true,
      migrationNames: onDisk,
      pendingMigrationNames: [],
    });

    expect(await migrations.deploy()).toEqual({ appliedMigrationNames: [] });
    expect(await rows(connectionString, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(
      onDisk.length,
    );
  }, 60_000);

  it('serialises concurrent deploys: each migration applied exactly once', async () => {
    const connectionString = await postgres.createDatabase('concurrent');
    const starts = Array.from({ length: 4 }, () =>
      createPrismaMigrations({ ...controlPlanePrismaPaths, connectionString }).deploy(),
    );
    const results = await Promise.all(starts);
    const onDisk = await migrationNamesOnDisk(controlPlanePrismaPaths.migrationsDir);
    expect(results.flatMap((result) => result.appliedMigrationNames).sort()).toEqual(onDisk);
    expect(
      await rows(connectionString, 'SELECT migration_name FROM _prisma_migrations'),
    ).toHaveLength(onDisk.length);
  }, 60_000);

  it('reports drift as a non-empty diff', async () => {
    const connectionString = await postgres.createDatabase('drift');
    const migrations = createPrismaMigrations({ ...controlPlanePrismaPaths, connectionString });
    await migrations.deploy();
    await rows(connectionString, 'ALTER TABLE plans ADD COLUMN unexpected integer');
    expect(await migrations.diff()).toMatch(/ALTER TABLE "plans" DROP COLUMN "unexpected"/);
  }, 60_000);

  it('creates a migration from a schema change on a shadow database, applies it, and leaves no shadow database', async () => {
    const connectionString = await postgres.createDatabase('create');
    const dir = await mkdtemp(join(tmpdir(), 'citadel-migrations-test-'));
    scratch.push(dir);
    const schemaPath = join(dir, 'schema.prisma');
    const migrationsDir = join(dir, 'migrations');
    await cp(controlPlanePrismaPaths.migrationsDir, migrationsDir, { recursive: true });
    const schema = await readFile(controlPlanePrismaPaths.schemaPath, 'utf8');
    await writeFile(
      schemaPath,
      `${schema}\nmodel Widget {\n  id   Int    @id @default(autoincrement())\n  name String @unique\n\n  @@map("widgets")\n}\n`,
    );
    const migrations = createPrismaMigrations({ schemaPath, migrationsDir, connectionString });

    const created = await migrations.create('add_widgets');
    expect(created.migrationName).toMatch(/^\d{14}_add_widgets$/);
    const sql = await readFile(created.migrationPath ?? '', 'utf8');
    expect(sql).toContain('CREATE TABLE "widgets"');
    expect(created.appliedMigrationNames).toContain(created.migrationName);
    expect(await migrations.diff()).toBe('');
    expect((await migrations.status()).upToDate).toBe(true);
    expect(await readFile(join(migrationsDir, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    );

    expect((await migrations.create('nothing')).migrationName).toBeUndefined();
    const shadows = await rows(
      postgres.url,
      "SELECT datname FROM pg_database WHERE datname LIKE 'prisma_shadow_%'",
    );
    expect(shadows).toEqual([]);
  }, 60_000);

  it('adapter: reads the "char" catalog type as Character and runs scripts with $$ bodies whole', async () => {
    const connectionString = await postgres.createDatabase('adapter');
    const factory = createMigrationAdapterFactory(connectionString);
    const adapter = await bindMigrationAwareSqlAdapterFactory(factory).connect();
    try {
      if (!adapter.ok) throw new Error('could not connect');
      const result = await adapter.value.queryRaw({
        sql: `SELECT 'r'::"char" AS kind, 'pg_class'::regclass AS relation`,
        args: [],
        argTypes: [],
      });
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      expect(result.value.columnTypes).toEqual([ColumnTypeEnum.Character, ColumnTypeEnum.Text]);
      const script = await adapter.value.executeScript(
        `CREATE FUNCTION answer() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 42; END; $$; SELECT answer();`,
      );
      expect(script.ok ? 'ok' : JSON.stringify(script.error)).toBe('ok');
      expect(await rows(connectionString, 'SELECT answer() AS value')).toEqual([{ value: 42 }]);
    } finally {
      await factory.closeAll();
    }
  }, 60_000);
});
