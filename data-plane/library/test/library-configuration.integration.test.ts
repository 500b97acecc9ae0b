import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '../../runtime/test/test-token-issuer.ts';
import {
  callLibrary,
  queryTenant,
  startLibraryTenantHost,
  userToken,
  type LibraryTenantHost,
} from './library-tenant-host.ts';

const TENANT_ID = 'b1c5f0d6-3c1e-4c36-9d55-0000000000e1';

let issuer: TestTokenIssuer;
let tenant: LibraryTenantHost;
let member: string;
let admin: string;
let embeddingServer: Server;
let embeddingUrl: string;
/** Authorization headers the embedding server received. */
const embeddingAuthorizations: string[] = [];

/**
 * A test double of an OpenAI-compatible embedding server (no model can run here): it speaks
 * `POST /v1/embeddings` and answers deterministic 64-dimensional vectors of hashed words.
 */
function startEmbeddingDouble(): Promise<void> {
  embeddingServer = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      embeddingAuthorizations.push(request.headers.authorization ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        input: string[];
        model: string;
      };
      const data = body.input.map((text, index) => {
        const vector = new Array<number>(64).fill(0);
        for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
          const slot = createHash('sha256').update(word).digest().readUInt32BE(0) % 64;
          vector[slot] = (vector[slot] ?? 0) + 1;
        }
        const norm = Math.hypot(...vector) || 1;
        return { object: 'embedding', index, embedding: vector.map((value) => value / norm) };
      });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', model: body.model, data }));
    });
  });
  return new Promise((resolve) => {
    embeddingServer.listen(0, '127.0.0.1', () => {
      const address = embeddingServer.address();
      if (typeof address === 'object' && address) embeddingUrl = `http://127.0.0.1:${address.port}`;
      resolve();
    });
  });
}

async function pdfOf(lines: string[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const page = pdf.addPage();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  lines.forEach((line, index) =>
    page.drawText(line, { x: 50, y: 700 - index * 20, size: 12, font }),
  );
  return pdf.save();
}

async function upload(form: FormData, token = member) {
  const response = await fetch(`${tenant.base}/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function searchTexts(query: string): Promise<string[]> {
  const found = await callLibrary(tenant, member, `/v1/search?q=${encodeURIComponent(query)}`);
  expect(found.status).toBe(200);
  return (found.body.hits as Array<{ text: string }>).map((hit) => hit.text);
}

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  await startEmbeddingDouble();
  tenant = await startLibraryTenantHost({
    slug: 'hooli',
    id: TENANT_ID,
    issuer,
    options: { workerIntervalMs: 200 },
  });
  member = await userToken(issuer, TENANT_ID, 'mia', ['member']);
  admin = await userToken(issuer, TENANT_ID, 'ada', ['admin']);
}, 120_000);

afterAll(async () => {
  await tenant.close();
  await issuer.close();
  embeddingServer.close();
});

describe('multipart upload', () => {
  it('ingests a PDF file with its fields, the same as the JSON route', async () => {
    const form = new FormData();
    const bytes = await pdfOf(['Quarterly report', 'The heron fund grew by four percent.']);
    form.set('file', new Blob([Buffer.from(bytes)], { type: 'application/pdf' }), 'report.pdf');
    form.set('license', 'CC-BY-4.0');
    form.set('source', 'https://intranet.example.com/report.pdf');
    form.append('tags', 'finance');
    form.append('tags', 'quarterly');
    const ingested = await upload(form);
    expect(ingested.status).toBe(201);
    expect(ingested.body).toMatchObject({ version: 1, status: 'indexed' });
    const document = await callLibrary(tenant, member, `/v1/documents/${String(ingested.body.id)}`);
    expect(document.body).toMatchObject({
      title: 'report',
      mediaType: 'application/pdf',
      tags: ['finance', 'quarterly'],
    });
    expect((await searchTexts('heron fund')).join(' ')).toContain('heron fund');
  });

  it('ingests a Markdown file and refuses a bad upload with a problem', async () => {
    const form = new FormData();
    form.set('title', 'Garden rules');
    form.set('license', 'MIT');
    form.set('source', 'intranet');
    form.set('file', new Blob(['# Garden\n\nThe flamingo pond is closed in winter.']), 'garden.md');
    expect((await upload(form)).status).toBe(201);

    const noFile = new FormData();
    noFile.set('title', 'Nothing');
    const refused = await upload(noFile);
    expect(refused.status).toBe(400);
    expect(refused.body.type).toMatch(/validation-error$/);

    const wrongType = new FormData();
    wrongType.set('license', 'MIT');
    wrongType.set('source', 'intranet');
    wrongType.set('file', new Blob([new Uint8Array([1, 2, 3])]), 'archive.zip');
    expect((await upload(wrongType)).status).toBe(415);
  });
});

describe('the tenant’s library settings', () => {
  it('are for administrators, guarded by ETag and If-Match, and validated', async () => {
    expect((await callLibrary(tenant, member, '/v1/settings')).status).toBe(403);
    const current = await callLibrary(tenant, admin, '/v1/settings');
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ embeddings: { provider: 'lexical-hash' } });
    const etag = current.headers.get('etag') ?? '';

    const changed = await callLibrary(tenant, admin, '/v1/settings', {
      method: 'PATCH',
      body: { nearDuplicateThreshold: 0.9 },
      headers: { 'if-match': etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.nearDuplicateThreshold).toBe(0.9);
    const stale = await callLibrary(tenant, admin, '/v1/settings', {
      method: 'PATCH',
      body: { nearDuplicateThreshold: 0.7 },
      headers: { 'if-match': etag },
    });
    expect(stale.status).toBe(412);
    const invalid = await callLibrary(tenant, admin, '/v1/settings', {
      method: 'PATCH',
      body: { nearDuplicateThreshold: 7 },
    });
    expect(invalid.status).toBe(400);
  });

  it('keeps originals once the retention policy says so', async () => {
    const kept = await callLibrary(tenant, admin, '/v1/settings', {
      method: 'PATCH',
      body: { retention: { keepOriginals: true, originalsRetentionDays: 7 } },
    });
    expect(kept.status).toBe(200);
    const ingested = await callLibrary(tenant, member, '/v1/documents', {
      body: {
        title: 'Kept',
        content: '# Kept\n\nCall 020 7946 0958 for the key.',
        mediaType: 'text/markdown',
        license: 'MIT',
        source: 'intranet',
      },
    });
    expect(ingested.body.originalKept).toBe(true);
  });

  it('switches to an OpenAI-compatible provider and re-embeds every chunk with it', async () => {
    const refused = await callLibrary(tenant, admin, '/v1/settings', {
      method: 'PATCH',
      body: {
        embeddings: {
          provider: 'openai-compatible',
          baseUrl: embeddingUrl,
          model: 'hashed-words-64',
          dimensions: 64,
          apiKey: 'sk-test-embedding-key',
        },
      },
    });
    // Chunks exist: a change of model must ask for the reindex.
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/reindex-required$/);

    const switched = await callLibrary(tenant, admin, '/v1/settings?reindex=true', {
      method: 'PATCH',
      body: {
        embeddings: {
          provider: 'openai-compatible',
          baseUrl: embeddingUrl,
          model: 'hashed-words-64',
          dimensions: 64,
          apiKey: 'sk-test-embedding-key',
        },
      },
    });
    expect(switched.status).toBe(200);
    expect(switched.body.embeddings).toMatchObject({ dimensions: 64, apiKeyConfigured: true });
    expect(JSON.stringify(switched.body)).not.toContain('sk-test-embedding-key');
    expect(switched.body.pendingEmbeddings).toBeGreaterThan(0);

    // The worker re-embeds; full-text search works throughout.
    expect((await searchTexts('flamingo pond')).join(' ')).toContain('flamingo');
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const health = await callLibrary(tenant, member, '/healthz');
      if (health.body.pendingEmbeddings === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const health = await callLibrary(tenant, member, '/healthz');
    expect(health.body).toMatchObject({
      pendingEmbeddings: 0,
      embedder: { model: 'hashed-words-64', dimensions: 64 },
    });
    if (tenant.pgvector) {
      const column = await queryTenant<{ type: string }>(
        tenant,
        `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
          WHERE attrelid = 'library.chunks'::regclass AND attname = 'embedding'`,
      );
      expect(column[0]?.type).toBe('vector(64)');
    }
    // New ingestions and queries use the new provider, with the tenant's key.
    await callLibrary(tenant, member, '/v1/documents', {
      body: {
        title: 'Zoo',
        content: '# Zoo\n\nThe pelican enclosure opens at nine.',
        mediaType: 'text/markdown',
        license: 'MIT',
        source: 'intranet',
      },
    });
    expect((await searchTexts('pelican enclosure')).join(' ')).toContain('pelican');
    expect(embeddingAuthorizations.at(-1)).toBe('Bearer sk-test-embedding-key');
    const unembedded = await queryTenant<{ count: string }>(
      tenant,
      'SELECT count(*) FROM library.chunks WHERE embedding IS NULL',
    );
    expect(unembedded[0]?.count).toBe('0');
  });
});
