import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLineLogger, readTenantDataCipher } from '@citadel/data-plane-runtime';
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '../../runtime/test/test-token-issuer.ts';
import { createLibrary } from '../src/library.ts';
import {
  callLibrary,
  queryTenant,
  startLibraryTenantHost,
  userToken,
  type LibraryTenantHost,
} from './library-tenant-host.ts';

const TENANT_ID = 'b1c5f0d6-3c1e-4c36-9d55-0000000000d1';
const CHILD = new URL('./fixtures/ingest-until-killed.ts', import.meta.url).pathname;

let issuer: TestTokenIssuer;
let tenant: LibraryTenantHost;
let alice: string;

function handbook(title: string) {
  return {
    title,
    content: `# ${title}\n\n${'Employees file travel claims within thirty days. '.repeat(200)}\n\nQuestions go to claims@example.com.`,
    mediaType: 'text/markdown',
    license: 'CC-BY-4.0',
    source: 'https://intranet.example.com/claims',
  };
}

/** Runs a library process until it is embedding, then kills it with SIGKILL. */
async function ingestUntilKilled(body: unknown, idempotencyKey: string): Promise<void> {
  const child = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env,
      TENANT_DATABASE_URL: tenant.database.url,
      TENANT_ID,
      CITADEL_TENANT_DATA_KEYS: tenant.dataKeys,
      IDEMPOTENCY_KEY: idempotencyKey,
      DOCUMENT: JSON.stringify(body),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'embedding') break;
  }
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

async function documentCounts() {
  const rows = await queryTenant<{ documents: string; versions: string; chunks: string }>(
    tenant,
    `SELECT (SELECT count(*) FROM library.documents) AS documents,
            (SELECT count(*) FROM library.document_versions) AS versions,
            (SELECT count(*) FROM library.chunks) AS chunks`,
  );
  return rows[0];
}

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  tenant = await startLibraryTenantHost({ slug: 'umbrella', id: TENANT_ID, issuer });
  alice = await userToken(issuer, TENANT_ID, 'alice', ['member']);
  // The schema exists before the first child runs (as in a host that served a request).
  expect((await callLibrary(tenant, alice, '/healthz')).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await tenant.close();
  await issuer.close();
});

describe('ingestion survives kill -9 (crash tests with a real child process)', () => {
  it('leaves nothing half-written; the retry with the same key writes the document once', async () => {
    const body = handbook('Travel claims');
    await ingestUntilKilled(body, 'claims-upload-1');

    // Killed mid-embedding: the job is there (its input encrypted), no document is.
    expect(await documentCounts()).toEqual({ documents: '0', versions: '0', chunks: '0' });
    const jobs = await queryTenant<{ state: string; input: Buffer; document_id: string }>(
      tenant,
      "SELECT state, input, document_id FROM library.ingestion_jobs WHERE idempotency_key = 'claims-upload-1'",
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.state).toBe('running');
    expect(jobs[0]?.input.toString('latin1')).not.toContain('claims@example.com');

    // The dead process's lease (1 s) runs out; the client's retry takes the job over.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const retried = await callLibrary(tenant, alice, '/v1/documents', {
      body,
      headers: { 'idempotency-key': 'claims-upload-1' },
    });
    expect(retried.status).toBe(201);
    expect(retried.body.id).toBe(jobs[0]?.document_id);
    const counts = await documentCounts();
    expect(counts).toMatchObject({ documents: '1', versions: '1' });
    expect(Number(counts?.chunks)).toBe(retried.body.chunks);

    // Retrying again replays; nothing more is written.
    const replayed = await callLibrary(tenant, alice, '/v1/documents', {
      body,
      headers: { 'idempotency-key': 'claims-upload-1' },
    });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body.id).toBe(retried.body.id);
    expect(await documentCounts()).toEqual(counts);
  }, 60_000);

  it('is resumed by the next library process on its own, without a retry', async () => {
    const before = await documentCounts();
    await ingestUntilKilled(handbook('Per diem rules'), 'per-diem-upload-1');
    expect(await documentCounts()).toEqual(before);

    // "Restart": a new library process on the same database; its worker finds the job.
    const pool = new pg.Pool({ connectionString: tenant.database.url, max: 2 });
    const restarted = await createLibrary({
      pool,
      logger: createJsonLineLogger({ write: () => undefined }, {}),
      tenantId: TENANT_ID,
      cipher: readTenantDataCipher({ CITADEL_TENANT_DATA_KEYS: tenant.dataKeys }),
      workerIntervalMs: 0,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await restarted.resumePendingJobs()).toBe(1);
      expect(await restarted.resumePendingJobs()).toBe(0);
    } finally {
      await restarted.close();
      await pool.end();
    }
    const after = await documentCounts();
    expect(Number(after?.documents)).toBe(Number(before?.documents) + 1);
    const job = await queryTenant<{ state: string; input: Buffer | null }>(
      tenant,
      "SELECT state, input FROM library.ingestion_jobs WHERE idempotency_key = 'per-diem-upload-1'",
    );
    expect(job[0]).toEqual({ state: 'succeeded', input: null });
    const replayed = await callLibrary(tenant, alice, '/v1/documents', {
      body: handbook('Per diem rules'),
      headers: { 'idempotency-key': 'per-diem-upload-1' },
    });
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
  }, 60_000);
});
