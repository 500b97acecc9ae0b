import { join, resolve } from 'node:path';
import { createPrismaMigrations } from './prisma-migrations.ts';
import type { PrismaMigrations } from './prisma-migrations.ts';
import type { PostgresLogger } from './postgres-logger.ts';

/** The control plane's database on the embedded server (with `DATABASE_URL`, that URL's database is used). */
export const controlPlaneDatabaseName = 'citadel';

const repositoryRoot = resolve(import.meta.dirname, '..', '..', '..');

/** The control plane's Prisma schema and migrations, as absolute paths. */
export const controlPlanePrismaPaths = {
  schemaPath: join(repositoryRoot, 'control-plane', 'prisma', 'schema.prisma'),
  migrationsDir: join(repositoryRoot, 'control-plane', 'prisma', 'migrations'),
} as const;

/**
 * The embedded server's directory inside the platform's data directory (`CITADEL_DATA_DIR`),
 * shared by `npm start` and the migrations CLI.
 */
export function embeddedPostgresDir(citadelDataDir: string): string {
  return join(citadelDataDir, 'postgres');
}

/** {@link createPrismaMigrations} for the control plane's schema. */
export function createControlPlaneMigrations(
  connectionString: string,
  logger?: PostgresLogger,
): PrismaMigrations {
  return createPrismaMigrations({ ...controlPlanePrismaPaths, connectionString, logger });
}
