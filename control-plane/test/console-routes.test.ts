import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleRouter } from '../src/http/console-routes.ts';
import { problemErrorHandler } from '../src/http/problem.ts';

const INDEX = '<!doctype html><script type="module" src="/console/assets/app-1234.js"></script>';

/** Serves a console router over `distDir` the way the platform mounts it (after helmet). */
async function serve(distDir: string): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use(helmet());
  app.use('/console', createConsoleRouter({ distDir }));
  app.use((_request, response) => {
    response.status(404).json({ status: 404 });
  });
  app.use(problemErrorHandler);
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${port}/console`, server });
    });
  });
}

describe('console routes', () => {
  let distDir: string;
  let url: string;
  let server: Server;

  beforeAll(async () => {
    distDir = await mkdtemp(path.join(tmpdir(), 'citadel-console-dist-'));
    ({ url, server } = await serve(distDir));
  });

  afterAll(async () => {
    server.close();
    await rm(distDir, { recursive: true, force: true });
  });

  it('answers 503 with a problem that says how to build while the console is not built', async () => {
    const response = await fetch(`${url}/sign-in`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const body = (await response.json()) as { type: string; detail: string };
    expect(body.type).toMatch(/console-not-built$/);
    expect(body.detail).toContain('npm run build -w console');
  });

  it('serves the app for every page path, with a strict CSP, once built', async () => {
    await mkdir(path.join(distDir, 'assets'), { recursive: true });
    await writeFile(path.join(distDir, 'index.html'), INDEX);
    await writeFile(path.join(distDir, 'assets', 'app-1234.js'), 'console.log(1);');
    for (const page of ['', '/', '/verify-email?token=abc', '/deep/client/route']) {
      const response = await fetch(`${url}${page}`);
      expect(response.status, page).toBe(200);
      expect(await response.text()).toBe(INDEX);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
    }
  });

  it('serves hashed assets for a year, and a missing asset is a 404, not the page', async () => {
    const asset = await fetch(`${url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toContain('javascript');
    const missing = await fetch(`${url}/assets/gone-0000.js`);
    expect(missing.status).toBe(404);
  });

  it('leaves other methods to the rest of the platform', async () => {
    const response = await fetch(`${url}/sign-in`, { method: 'POST' });
    expect(response.status).toBe(404);
  });
});
