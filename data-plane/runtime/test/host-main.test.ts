import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenantDatabase, type TestTenantDatabase } from './test-tenant-database.ts';
import { startTestTokenIssuer, userClaims } from './test-token-issuer.ts';

const HOST_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/host-main.ts');

let database: TestTenantDatabase;

beforeAll(async () => {
  database = await createTestTenantDatabase();
}, 120_000);

afterAll(async () => {
  await database.drop();
});

function startHost(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [HOST_MAIN], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
}

function ready(child: ChildProcess): Promise<number> {
  return new Promise((resolveReady, reject) => {
    child.once('message', (message: { type: string; port: number }) =>
      message.type === 'ready'
        ? resolveReady(message.port)
        : reject(new Error(JSON.stringify(message))),
    );
    child.once('exit', (code) => reject(new Error(`host exited with ${code}`)));
  });
}

function tenantEnv(): Record<string, string> {
  return {
    CITADEL_TENANT_SLUG: 'acme',
    CITADEL_TENANT_ID: 'b1c5f0d6-3c1e-4c36-9d55-000000000002',
    CITADEL_TENANT_DATABASE_URL: database.url,
    CITADEL_SERVICES: 'library',
    PORT: '0',
  };
}

describe('host-main', () => {
  it('exits 78 with a clear message on a bad environment', { timeout: 15_000 }, async () => {
    const { child, output } = startHost({ CITADEL_TENANT_SLUG: 'acme', PORT: 'eighty' });
    expect(await exited(child)).toEqual({ code: 78, signal: null });
    expect(output()).toContain(
      'citadel data-plane host: invalid environment: CITADEL_TENANT_ID is required; ' +
        'CITADEL_TENANT_DATABASE_URL is required; PORT "eighty" must be an integer from 0 to 65535',
    );
  });

  it(
    'reports ready over IPC, serves /healthz, and exits when its supervisor disconnects',
    { timeout: 15_000 },
    async () => {
      const started = performance.now();
      const { child, output } = startHost(tenantEnv());
      const port = await ready(child);
      const readyMs = performance.now() - started;
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: 'ok',
        tenant: { slug: 'acme' },
        database: { connected: true, user: database.roleName },
      });
      child.disconnect();
      expect(await exited(child)).toEqual({ code: 0, signal: null });
      expect(output()).toContain('"reason":"supervisor disconnected"');
      expect(output()).not.toContain(new URL(database.url).password);
      console.log(`host ready ${readyMs.toFixed(0)} ms after spawn`);
    },
  );

  it('shuts down gracefully on SIGTERM', { timeout: 15_000 }, async () => {
    const { child, output } = startHost(tenantEnv());
    const port = await ready(child);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(output()).toContain('"reason":"SIGTERM"');
  });

  it(
    "verifies tokens against the platform's JWKS, and refuses all but health checks without one",
    { timeout: 15_000 },
    async () => {
      const issuer = await startTestTokenIssuer();
      const configured = startHost({
        ...tenantEnv(),
        CITADEL_TOKEN_ISSUER: issuer.issuer,
        CITADEL_TOKEN_JWKS_URL: issuer.jwksUrl.href,
      });
      const unconfigured = startHost(tenantEnv());
      try {
        const [port, barePort] = await Promise.all([
          ready(configured.child),
          ready(unconfigured.child),
        ]);
        const token = await issuer.sign(userClaims(tenantEnv().CITADEL_TENANT_ID ?? '', 'library'));
        const whoami = (target: number) =>
          fetch(`http://127.0.0.1:${target}/library/whoami`, {
            headers: { authorization: `Bearer ${token}` },
          });
        const answer = await whoami(port);
        expect(answer.status).toBe(200);
        expect(await answer.json()).toMatchObject({ principal: { type: 'user', id: 'user-1' } });
        const refused = await whoami(barePort);
        expect(refused.status).toBe(401);
        expect(await refused.json()).toMatchObject({ reason: 'not-configured' });
        expect(unconfigured.output()).toContain('no token issuer configured');
        expect((await fetch(`http://127.0.0.1:${barePort}/healthz`)).status).toBe(200);
      } finally {
        configured.child.disconnect();
        unconfigured.child.disconnect();
        await Promise.all([exited(configured.child), exited(unconfigured.child)]);
        await issuer.close();
      }
    },
  );
});
