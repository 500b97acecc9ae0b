export { CONSOLE_BASE_PATH, CONSOLE_DIST_DIR, CONSOLE_WEB_DIR } from './console-paths.ts';
export {
  buildConsole,
  consoleBuildState,
  ensureConsoleBuild,
  type ConsoleBuildResult,
  type ConsoleBuildState,
} from './console-build.ts';
