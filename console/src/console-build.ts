import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CONSOLE_DIST_DIR, CONSOLE_WEB_DIR } from './console-paths.ts';

const packageDir = path.dirname(CONSOLE_WEB_DIR);
const repositoryRoot = path.resolve(packageDir, '..');

/** Files outside web/ that end up in the bundle or change how it is built. */
const EXTRA_INPUTS = [
  path.join(packageDir, 'package.json'),
  path.join(repositoryRoot, 'packages/contracts/src/plan-catalog.ts'),
  path.join(repositoryRoot, 'packages/contracts/src/tenant-slug.ts'),
];

async function newestModification(entry: string): Promise<number> {
  const info = await stat(entry).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const children = await readdir(entry);
  const times = await Promise.all(
    children.map((child) => newestModification(path.join(entry, child))),
  );
  return Math.max(info.mtimeMs, ...times);
}

export type ConsoleBuildState = 'missing' | 'stale' | 'current';

/** Whether `dist` exists and is newer than every source of the app. */
export async function consoleBuildState(distDir = CONSOLE_DIST_DIR): Promise<ConsoleBuildState> {
  const built = await stat(path.join(distDir, 'index.html')).catch(() => undefined);
  if (!built) return 'missing';
  const sources = await Promise.all(
    [CONSOLE_WEB_DIR, ...EXTRA_INPUTS].map((input) => newestModification(input)),
  );
  return Math.max(...sources) > built.mtimeMs ? 'stale' : 'current';
}

export interface ConsoleBuildResult {
  distDir: string;
  durationMs: number;
}

/**
 * Builds the app with Vite into `dist`. The build goes to a staging folder first and is
 * then moved into place, so a running platform never serves a half-written console. Vite is
 * a development dependency and is imported only here.
 */
export async function buildConsole(distDir = CONSOLE_DIST_DIR): Promise<ConsoleBuildResult> {
  const started = performance.now();
  const { build } = await import('vite');
  const staging = `${distDir}.staging-${process.pid}`;
  try {
    await build({
      root: CONSOLE_WEB_DIR,
      configFile: path.join(CONSOLE_WEB_DIR, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: staging, emptyOutDir: true },
    });
    await rm(distDir, { recursive: true, force: true });
    await rename(staging, distDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { distDir, durationMs: performance.now() - started };
}

/** Builds the app when `dist` is missing or older than its sources; undefined when it was current. */
export async function ensureConsoleBuild(
  distDir = CONSOLE_DIST_DIR,
): Promise<(ConsoleBuildResult & { reason: ConsoleBuildState }) | undefined> {
  const state = await consoleBuildState(distDir);
  if (state === 'current') return undefined;
  return { ...(await buildConsole(distDir)), reason: state };
}
