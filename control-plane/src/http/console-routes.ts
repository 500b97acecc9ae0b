import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import { problem, sendProblem } from './problem.ts';

export interface ConsoleRoutesOptions {
  /** The built console (`console/dist`): index.html and hashed files under assets/. */
  distDir: string;
}

/**
 * The console's Content-Security-Policy, stricter than the platform's default: scripts and
 * styles from this origin only (Vite emits no inline code), requests to this origin only, no
 * framing, no plugins. The built app needs nothing more.
 */
const CONSOLE_CSP: RequestHandler = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
});

/** Hashed file names change with their content: browsers may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const notBuilt = problem({
  status: 503,
  slug: 'console-not-built',
  title: 'Console not built',
  detail:
    'The web console has not been built on this machine. Run `npm run build -w console` ' +
    '(`npm start` builds it when it is missing), then reload.',
});

/**
 * Serves the self-serve console (a single-page app) at /console: its hashed assets with
 * long-lived caching, and index.html for every other path so that client-side routes
 * (`/console/sign-in`, links from mail such as `/console/verify-email?token=…`) load the
 * app. A missing asset is a 404, never the page. Until the app is built, 503 says how.
 */
export function createConsoleRouter(options: ConsoleRoutesOptions): Router {
  const indexFile = path.join(options.distDir, 'index.html');
  const router = Router();
  router.use(CONSOLE_CSP);
  router.use((_request, response, next) => {
    // Checked per request until found, so building while the platform runs needs no restart.
    if (existsSync(indexFile)) {
      next();
      return;
    }
    sendProblem(response.set('Retry-After', '30').set('Cache-Control', 'no-store'), notBuilt);
  });
  router.use(
    '/assets',
    express.static(path.join(options.distDir, 'assets'), {
      index: false,
      redirect: false,
      fallthrough: true,
      setHeaders: (response) => response.set('Cache-Control', IMMUTABLE),
    }),
  );
  router.use((request, response, next) => {
    const page = request.method === 'GET' || request.method === 'HEAD';
    if (!page || request.path.startsWith('/assets/')) {
      next();
      return;
    }
    // The page is small and names the current assets: always revalidate it.
    response.set('Cache-Control', 'no-cache');
    response.sendFile(indexFile, (error) => {
      if (error) next(error);
    });
  });
  return router;
}
