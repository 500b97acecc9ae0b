/**
 * Control-plane migrations from the command line (root scripts `db:migrate:*`):
 *
 *   node packages/postgres/src/cli.ts create <name> | deploy | status | diff
 *
 * Targets `DATABASE_URL` when set, else the embedded server in `$CITADEL_DATA_DIR/postgres`
 * (default `./.citadel/postgres`), database `citadel`, as `npm start` does.
 */
import {
  controlPlaneDatabaseName,
  createControlPlaneMigrations,
  embeddedPostgresDir,
} from './control-plane-database.ts';
import { startEmbeddedPostgres } from './embedded-postgres-server.ts';
import { ensureDatabase } from './ensure-database.ts';
import type { PostgresLogger } from './postgres-logger.ts';
import type { PrismaMigrations } from './prisma-migrations.ts';
const usage = 'usage: cli.ts create <name> | deploy | status | diff';

const consoleLogger: PostgresLogger = {
  debug: () => undefined,
  info: (message) => console.error(message),
  warn: (message) => console.error(`warning: ${message}`),
};

type Command = { name: 'create'; migrationName: string } | { name: 'deploy' | 'status' | 'diff' };

function parseCommand(argv: string[]): Command | undefined {
  const [name, migrationName, ...rest] = argv;
  if (rest.length > 0) return undefined;
  if (name === 'create') return migrationName === undefined ? undefined : { name, migrationName };
  if ((name === 'deploy' || name === 'status' || name === 'diff') && migrationName === undefined) {
    return { name };
  }
  return undefined;
}

/** Runs one command and returns the process exit status. */
async function run(command: Command, migrations: PrismaMigrations): Promise<number> {
  switch (command.name) {
    case 'create': {
      const created = await migrations.create(command.migrationName);
      console.log(created.migrationPath ?? 'no changes: no migration written');
      return 0;
    }
    case 'deploy': {
      const { appliedMigrationNames } = await migrations.deploy();
      const applied = appliedMigrationNames.join(', ');
      console.log(applied === '' ? 'no pending migrations' : `applied: ${applied}`);
      return 0;
    }
    case 'status': {
      const status = await migrations.status();
      console.log(JSON.stringify(status, undefined, 2));
      return status.upToDate ? 0 : 1;
    }
    case 'diff': {
      const script = await migrations.diff();
      console.log(script === '' ? 'the database matches the schema' : script);
      return script === '' ? 0 : 2;
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  if (command === undefined) {
    console.error(usage);
    return 64;
  }
  const databaseUrl = process.env.DATABASE_URL ?? '';
  if (databaseUrl !== '')
    return run(command, createControlPlaneMigrations(databaseUrl, consoleLogger));
  const server = await startEmbeddedPostgres({
    dataDir: embeddedPostgresDir(process.env.CITADEL_DATA_DIR ?? '.citadel'),
    logger: consoleLogger,
  });
  try {
    const url = await ensureDatabase(server.connectionString, controlPlaneDatabaseName);
    return await run(command, createControlPlaneMigrations(url, consoleLogger));
  } finally {
    await server.stop();
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
