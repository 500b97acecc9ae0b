/**
 * Generates the control plane's Prisma client with no network (root `postinstall` and
 * `npm run db:generate`). Usage: `node packages/postgres/src/generate-client.ts [schema]`.
 *
 * `prisma generate` never runs the schema engine, but the Prisma 7 CLI downloads the native
 * engine unless `PRISMA_SCHEMA_ENGINE_BINARY` names an existing file: we name this script, which
 * is not executable, so any attempt to run it would fail loudly instead of reaching the internet.
 * See docs/adr/0002-prisma-offline-migrations.md.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const repositoryRoot = resolve(import.meta.dirname, '..', '..', '..');
const defaultSchema = 'control-plane/prisma/schema.prisma';

/**
 * Runs `prisma generate` for `schemaPath` (relative to the repository root) and returns its exit status.
 */
export function generatePrismaClient(schemaPath: string = defaultSchema): number {
  const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  const began = performance.now();
  const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schemaPath], {
    cwd: repositoryRoot,
    stdio: 'inherit',
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: import.meta.filename,
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      PRISMA_GENERATE_SKIP_AUTOINSTALL: '1',
    },
  });
  if (result.error !== undefined) throw result.error;
  console.log(
    `prisma generate (${schemaPath}): exit ${result.status} in ${Math.round(performance.now() - began)} ms`,
  );
  return result.status ?? 1;
}

if (import.meta.main) {
  process.exitCode = generatePrismaClient(process.argv[2]);
}
