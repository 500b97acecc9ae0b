/**
 * Builds the console into console/dist.
 *
 *   node console/src/console-build-main.ts              build now (npm run build -w console)
 *   node console/src/console-build-main.ts --if-stale   only when dist is missing or older than
 *                                                       its sources (the root `prestart`)
 *
 * With --if-stale a failure does not stop the platform from starting: it is reported, and
 * /console answers 503 until a build exists.
 */
import path from 'node:path';
import { buildConsole, ensureConsoleBuild } from './console-build.ts';

const ifStale = process.argv.includes('--if-stale');

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

try {
  const result = ifStale ? await ensureConsoleBuild() : await buildConsole();
  if (result === undefined) {
    console.log('console: console/dist is up to date');
  } else {
    const where = path.relative(process.cwd(), result.distDir) || result.distDir;
    console.log(`console: built into ${where} in ${seconds(result.durationMs)}`);
  }
} catch (error) {
  const missingVite =
    error instanceof Error && 'code' in error && error.code === 'ERR_MODULE_NOT_FOUND';
  const reason = missingVite
    ? 'vite is not installed (development dependencies were left out)'
    : String(error instanceof Error ? (error.stack ?? error.message) : error);
  console.error(`console: could not build the web console: ${reason}`);
  if (ifStale) {
    console.error('console: the platform starts anyway; /console answers 503 until it is built.');
  } else {
    process.exitCode = 1;
  }
}
