/**
 * Writes the console's GraphQL schema (SDL) to docs/console-schema.graphql, the contract the
 * console and other clients read. `npm run graphql:schema`; a test fails when it is stale.
 */
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as GraphQL from 'graphql';
import { buildConsoleSchema } from './console-schema.ts';

// graphql has no `exports` map: Node loads its CommonJS build for every importer, but a
// bundler-style resolver (the test runner's) may hand this file the ES build, a second copy
// that refuses the first one's types. Loading it as Node does keeps one copy.
const { lexicographicSortSchema, printSchema } = createRequire(import.meta.url)(
  'graphql',
) as typeof GraphQL;

export const CONSOLE_SCHEMA_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../docs/console-schema.graphql',
);

/** The SDL, sorted so that the file only changes when the schema does. */
export function consoleSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(buildConsoleSchema()))}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(CONSOLE_SCHEMA_FILE, consoleSchemaSdl());
  console.log(`wrote ${path.relative(process.cwd(), CONSOLE_SCHEMA_FILE)}`);
}
