import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The console is served by the control plane under this path. */
export const CONSOLE_BASE_PATH = '/console';

/** The Vite project of the web app (its index.html, vite.config.ts and src/). */
export const CONSOLE_WEB_DIR = path.join(packageDir, 'web');

/** Where `vite build` writes the app; the control plane serves this folder. Not in git. */
export const CONSOLE_DIST_DIR = path.join(packageDir, 'dist');
