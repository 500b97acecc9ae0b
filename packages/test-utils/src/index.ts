export { startTestPostgres } from './test-postgres.ts';
export type { TestPostgres, TestPostgresOptions } from './test-postgres.ts';
export * from './platform-process.ts';
export * from './wait-for.ts';
export * from './drop-platform-resources.ts';
export * from './query-rows.ts';
export * from './citadel-cli-process.ts';
