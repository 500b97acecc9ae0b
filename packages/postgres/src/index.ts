export {
  startEmbeddedPostgres,
  defaultEmbeddedPostgresSettings,
} from './embedded-postgres-server.ts';
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './embedded-postgres-server.ts';
export { createPrismaMigrations } from './prisma-migrations.ts';
export type {
  CreatedMigration,
  MigrationStatus,
  PrismaMigrations,
  PrismaMigrationsOptions,
} from './prisma-migrations.ts';
export { createMigrationAdapterFactory } from './migration-adapter-factory.ts';
export type { ClosableMigrationAdapterFactory } from './migration-adapter-factory.ts';
export { loadSchemaEngine, schemaEngineVersion } from './schema-engine-wasm.ts';
export { ensureDatabase } from './ensure-database.ts';
export { databaseNameOf, quoteIdentifier, withDatabase } from './database-url.ts';
export { silentLogger } from './postgres-logger.ts';
export type { PostgresLogger } from './postgres-logger.ts';
export { generatePrismaClient } from './generate-client.ts';
export {
  controlPlaneDatabaseName,
  controlPlanePrismaPaths,
  createControlPlaneMigrations,
  embeddedPostgresDir,
} from './control-plane-database.ts';
