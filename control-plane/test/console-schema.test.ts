import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONSOLE_SCHEMA_FILE, consoleSchemaSdl } from '../src/graphql/print-console-schema.ts';

describe('console GraphQL schema', () => {
  it('matches docs/console-schema.graphql (run `npm run graphql:schema` after a change)', async () => {
    expect(await readFile(CONSOLE_SCHEMA_FILE, 'utf8')).toBe(consoleSchemaSdl());
  });
});
