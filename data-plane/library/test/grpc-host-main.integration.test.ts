import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTenantDatabase,
  type TestTenantDatabase,
} from '../../runtime/test/test-tenant-database.ts';

const HOST_MAIN = resolve(import.meta.dirname, '../../runtime/src/host-main.ts');

let database: TestTenantDatabase;

beforeAll(async () => {
  database = await createTestTenantDatabase();
}, 120_000);

afterAll(async () => {
  await database.drop();
});

interface ReadyMessage {
  type: string;
  port: number;
  grpcPort?: number;
}

function startHost(extra: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  ready: Promise<ReadyMessage>;
  exited: Promise<number | null>;
} {
  let output = '';
  const child = spawn(process.execPath, [HOST_MAIN], {
    env: {
      CITADEL_TENANT_SLUG: 'acme',
      CITADEL_TENANT_ID: 'b1c5f0d6-3c1e-4c36-9d55-0000000000e1',
      CITADEL_TENANT_DATABASE_URL: database.url,
      CITADEL_SERVICES: 'library',
      PORT: '0',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
  const ready = new Promise<ReadyMessage>((resolveReady, reject) => {
    child.once('message', (message: ReadyMessage) => resolveReady(message));
    void exited.then((code) => reject(new Error(`host exited with ${code}: ${output}`)));
  });
  return { child, output: () => output, ready, exited };
}

async function healthOf(port: number): Promise<Record<string, unknown>> {
  return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<
    string,
    unknown
  >;
}

describe('host-main with GRPC_PORT', () => {
  it(
    'serves gRPC on a free port for GRPC_PORT=0, and reports it in its ready message, start log and /healthz',
    { timeout: 30_000 },
    async () => {
      const started = performance.now();
      const host = startHost({ GRPC_PORT: '0' });
      try {
        const ready = await host.ready;
        const readyMs = performance.now() - started;
        expect(ready.grpcPort).toBeGreaterThan(0);
        expect(ready.grpcPort).not.toBe(ready.port);
        const listening = host
          .output()
          .split('\n')
          .find((line) => line.includes('"msg":"data-plane host listening"'));
        expect(JSON.parse(listening ?? '{}')).toMatchObject({
          port: ready.port,
          grpcPort: ready.grpcPort,
        });
        expect(await healthOf(ready.port)).toMatchObject({
          status: 'ok',
          grpc: { port: ready.grpcPort, services: ['citadel.library.v1.Library'] },
        });
        // A gRPC channel to the reported port connects.
        const client = new grpc.Client(
          `127.0.0.1:${ready.grpcPort ?? 0}`,
          grpc.credentials.createInsecure(),
        );
        await new Promise<void>((resolveReady, reject) =>
          client.waitForReady(Date.now() + 5_000, (error) =>
            error ? reject(error) : resolveReady(),
          ),
        );
        client.close();
        console.log(`host with gRPC ready ${readyMs.toFixed(0)} ms after spawn`);
      } finally {
        host.child.kill('SIGTERM');
        expect(await host.exited).toBe(0);
      }
    },
  );

  it('serves no gRPC without GRPC_PORT', { timeout: 30_000 }, async () => {
    const host = startHost({});
    try {
      const ready = await host.ready;
      expect(ready).toEqual({ type: 'ready', port: ready.port });
      expect(await healthOf(ready.port)).not.toHaveProperty('grpc');
      expect(host.output()).not.toContain('grpcPort');
    } finally {
      host.child.kill('SIGTERM');
      await host.exited;
    }
  });

  it('exits 78 for a GRPC_PORT that is not a port', { timeout: 15_000 }, async () => {
    const host = startHost({ GRPC_PORT: 'fifty' });
    host.ready.catch(() => undefined);
    expect(await host.exited).toBe(78);
    expect(host.output()).toContain('GRPC_PORT "fifty" must be an integer from 0 to 65535');
  });
});
