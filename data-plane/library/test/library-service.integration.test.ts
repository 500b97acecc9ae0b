import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDataPlaneHost,
  createJsonLineLogger,
  createTokenAuthenticator,
  type DataPlaneHost,
} from '@citadel/data-plane-runtime';
import {
  createTestTenantDatabase,
  type TestTenantDatabase,
} from '../../runtime/test/test-tenant-database.ts';
import {
  startTestTokenIssuer,
  userClaims,
  type TestTokenIssuer,
} from '../../runtime/test/test-token-issuer.ts';
import { createLibraryServiceFactory } from '../src/library-service.ts';

/** A response body as the tests read it (any field may be absent). */
interface Citation {
  documentId: string;
  version: number;
  start: number;
  end: number;
  text: string;
  marker: number;
}
interface Hit {
  chunkId: string;
  text: string;
  citation: Citation;
}
interface Body {
  id?: string;
  type?: string;
  answer?: string;
  nextCursor?: string | null;
  hits?: Hit[];
  citations?: Citation[];
  redactions?: { total: number };
  duplicates?: { exact: string[]; near: Array<{ documentId: string; similarity: number }> };
  [field: string]: unknown;
}

/** One tenant's data-plane host with the library mounted, on its own database and role. */
interface TenantHost {
  id: string;
  database: TestTenantDatabase;
  host: DataPlaneHost;
  base: string;
  token: string;
  logLines: string[];
}

let issuer: TestTokenIssuer;
let acme: TenantHost;
let globex: TenantHost;

async function startTenant(slug: string, id: string): Promise<TenantHost> {
  const database = await createTestTenantDatabase();
  const logLines: string[] = [];
  const host = createDataPlaneHost({
    tenantSlug: slug,
    tenantId: id,
    databaseUrl: database.url,
    services: ['library'],
    logger: createJsonLineLogger({ write: (line: string) => logLines.push(line) }, {}),
    authenticator: createTokenAuthenticator({
      tenantId: id,
      issuer: issuer.issuer,
      jwksUrl: issuer.jwksUrl,
    }),
    serviceFactories: { library: createLibraryServiceFactory() },
  });
  const base = `http://127.0.0.1:${await host.listen(0)}/library`;
  const token = await issuer.sign(userClaims(id, 'library'));
  return { id, database, host, base, token, logLines };
}

async function call(
  tenant: TenantHost,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${tenant.base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${tenant.token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (text ? JSON.parse(text) : {}) as Body,
  };
}

/** Reads straight from the tenant's database, as the tenant's role. */
async function query<T extends pg.QueryResultRow>(
  tenant: TenantHost,
  sql: string,
  values: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: tenant.database.url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const HANDBOOK = `# Expense handbook

## Travel

Employees book travel through the travel desk. Contact finance at ap-team@example.com or call +1 415 555 0134 for approvals.

Corporate cards such as 4111 1111 1111 1111 are for travel only. Refunds go to GB82 WEST 1234 5698 7654 32.

## Meals

Meal allowances are 60 euros per day on business trips. Receipts are kept for seven years.
`;

const PII = [
  'ap-team@example.com',
  '+1 415 555 0134',
  '4111 1111 1111 1111',
  'GB82 WEST 1234 5698 7654 32',
];

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  [acme, globex] = await Promise.all([
    startTenant('acme', 'b1c5f0d6-3c1e-4c36-9d55-00000000000a'),
    startTenant('globex', 'b1c5f0d6-3c1e-4c36-9d55-00000000000b'),
  ]);
}, 120_000);

afterAll(async () => {
  for (const tenant of [acme, globex]) {
    await tenant.host.close();
    await tenant.database.drop();
  }
  await issuer.close();
});

describe('library service in a tenant host, on the tenant’s own database', () => {
  let handbookId: string;

  it('ingests a Markdown document: redacted before anything is stored, chunked, indexed', async () => {
    const ingested = await call(acme, '/v1/documents', {
      body: {
        title: 'Expense handbook',
        content: HANDBOOK,
        mediaType: 'text/markdown',
        license: 'CC-BY-4.0',
        source: 'https://intranet.example.com/handbook',
        author: 'Finance',
        tags: ['finance', 'policy'],
      },
    });
    expect(ingested.status).toBe(201);
    expect(ingested.body).toMatchObject({
      version: 1,
      status: 'indexed',
      unchanged: false,
      license: { expression: 'CC-BY-4.0', trainingAllowed: true },
      duplicates: { exact: [], near: [] },
    });
    expect(ingested.body.redactions?.total).toBeGreaterThanOrEqual(4);
    handbookId = ingested.body.id ?? '';

    // No PII string reached a stored text, chunk, report or log line.
    const stored = await query<{ text: string; chunks: string; report: string }>(
      acme,
      `SELECT v.text, v.redaction_report::text AS report,
              (SELECT string_agg(text, ' ') FROM library.chunks c WHERE c.document_id = v.document_id) AS chunks
         FROM library.document_versions v WHERE v.document_id = $1`,
      [handbookId],
    );
    const everything = [
      stored[0]?.text,
      stored[0]?.chunks,
      stored[0]?.report,
      ...acme.logLines,
    ].join('\n');
    for (const value of PII) expect(everything).not.toContain(value);
    expect(stored[0]?.text).toContain('[REDACTED:EMAIL]');

    const document = await call(acme, `/v1/documents/${handbookId}`);
    expect(document.body).toMatchObject({
      id: handbookId,
      title: 'Expense handbook',
      license: 'CC-BY-4.0',
      tags: ['finance', 'policy'],
      latestVersion: 1,
      createdBy: 'user:user-1',
    });
  });

  it('searches with full-text and vectors fused; every citation resolves to the stored span', async () => {
    const search = await call(acme, '/v1/search?q=meal%20allowance%20per%20day&limit=3');
    expect(search.status).toBe(200);
    const hits = search.body.hits ?? [];
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]?.text).toMatch(/Meal allowances/);
    for (const hit of hits) {
      const [row] = await query<{ text: string }>(
        acme,
        'SELECT text FROM library.document_versions WHERE document_id = $1 AND version = $2',
        [hit.citation.documentId, hit.citation.version],
      );
      expect(row?.text.slice(hit.citation.start, hit.citation.end)).toBe(hit.text);
    }
    const filtered = await call(acme, '/v1/search?q=meal&license=MIT');
    expect(filtered.body.hits).toEqual([]);
  });

  it('answers extractively, each sentence cited with an exact span', async () => {
    const answer = await call(acme, '/v1/answers', {
      body: { question: 'How much is the meal allowance per day?' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.answer).toMatch(/60 euros per day/);
    for (const citation of answer.body.citations ?? []) {
      const [row] = await query<{ text: string }>(
        acme,
        'SELECT text FROM library.document_versions WHERE document_id = $1 AND version = $2',
        [citation.documentId, citation.version],
      );
      expect(row?.text.slice(citation.start, citation.end)).toBe(citation.text);
      expect(answer.body.answer).toContain(`[${citation.marker}]`);
    }
  });

  it('re-ingesting unchanged content writes nothing; changed content is a new version; copies are reported', async () => {
    const same = await call(acme, '/v1/documents', {
      body: {
        documentId: handbookId,
        title: 'Expense handbook',
        content: HANDBOOK,
        mediaType: 'text/markdown',
        license: 'CC-BY-4.0',
        source: 'https://intranet.example.com/handbook',
      },
    });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ id: handbookId, version: 1, unchanged: true });

    const changed = await call(acme, '/v1/documents', {
      body: {
        documentId: handbookId,
        title: 'Expense handbook',
        content: HANDBOOK.replace('60 euros', '65 euros'),
        mediaType: 'text/markdown',
        license: 'CC-BY-4.0',
        source: 'https://intranet.example.com/handbook',
      },
    });
    expect(changed.status).toBe(201);
    expect(changed.body).toMatchObject({ id: handbookId, version: 2, unchanged: false });
    // Search reads the latest version only; version 1 stays stored and citable.
    const search = await call(acme, '/v1/search?q=meal%20allowance');
    expect((search.body.hits as Array<{ text: string }>)[0]?.text).toMatch(/65 euros/);
    const versions = await query<{ version: number }>(
      acme,
      'SELECT version FROM library.document_versions WHERE document_id = $1 ORDER BY version',
      [handbookId],
    );
    expect(versions.map((row) => row.version)).toEqual([1, 2]);

    const copy = await call(acme, '/v1/documents', {
      body: {
        title: 'Handbook copy',
        content: HANDBOOK.replace('65 euros', '60 euros').replace('60 euros', '65 euros'),
        mediaType: 'text/markdown',
        license: 'CC-BY-4.0',
        source: 'mirror',
      },
    });
    expect(copy.status).toBe(201);
    expect(copy.body.duplicates?.exact).toEqual([handbookId]);
    expect(copy.body.duplicates?.near[0]).toMatchObject({ documentId: handbookId });
  });

  it('refuses bad input with problem+json and writes nothing', async () => {
    const countDocuments = async () =>
      Number(
        (await query<{ n: string }>(acme, 'SELECT count(*) AS n FROM library.documents'))[0]?.n,
      );
    const before = await countDocuments();
    const base = {
      title: 'x',
      content: 'Some text about travel.',
      mediaType: 'text/plain',
      license: 'MIT',
      source: 'test',
    };
    const cases: Array<[unknown, number, string]> = [
      [{ ...base, license: 'Not-A-Licence' }, 400, 'validation-error'],
      [{ ...base, mediaType: 'image/png' }, 415, 'unsupported-media-type'],
      [{ ...base, title: undefined, content: 42 }, 400, 'validation-error'],
      [{ ...base, license: 'NOASSERTION' }, 422, 'license-not-allowed'],
      ['not json', 400, 'validation-error'],
      [{ ...base, documentId: '00000000-0000-4000-8000-000000000000' }, 404, 'not-found'],
    ];
    for (const [body, status, type] of cases) {
      const refused = await call(acme, '/v1/documents', { body });
      expect(refused.status, JSON.stringify(body)).toBe(status);
      expect(refused.contentType).toBe('application/problem+json');
      expect(refused.body.type).toBe(`https://citadel.azora.dev/problems/${type}`);
    }
    expect((await call(acme, '/v1/search?q=')).status).toBe(400);
    expect((await call(acme, '/v1/search?q=x&cursor=forged')).status).toBe(400);
    expect((await call(acme, '/v1/documents', { method: 'GET' })).status).toBe(405);
    expect(
      (await call(acme, `/v1/documents/${'0'.repeat(8)}-0000-0000-0000-000000000000`)).status,
    ).toBe(404);
    expect(await countDocuments()).toBe(before);
  });

  it('pages search results with a cursor bound to the query', async () => {
    for (let index = 0; index < 6; index += 1) {
      await call(acme, '/v1/documents', {
        body: {
          title: `Travel note ${index}`,
          content: `Travel note ${index}: trains are preferred over flights for trips under ${index + 3} hours.`,
          mediaType: 'text/plain',
          license: 'MIT',
          source: 'notes',
        },
      });
    }
    const first = await call(acme, '/v1/search?q=trains%20flights&limit=4&source=notes');
    expect(first.body.hits).toHaveLength(4);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(
      acme,
      `/v1/search?q=trains%20flights&limit=4&source=notes&cursor=${first.body.nextCursor ?? ''}`,
    );
    const ids = [...(first.body.hits ?? []), ...(second.body.hits ?? [])].map((hit) => hit.chunkId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(6);
    const replayed = await call(
      acme,
      `/v1/search?q=something%20else&cursor=${first.body.nextCursor ?? ''}`,
    );
    expect(replayed.status).toBe(400);
  });

  it('never shows one tenant another tenant’s documents', async () => {
    const mine = await call(globex, '/v1/search?q=meal%20allowance');
    expect(mine.status).toBe(200);
    expect(mine.body.hits).toEqual([]);
    expect((await call(globex, `/v1/documents/${handbookId}`)).status).toBe(404);
    // Acme's token does not open Globex's library.
    const crossed = await fetch(`${globex.base}/v1/search?q=meal`, {
      headers: { authorization: `Bearer ${acme.token}` },
    });
    expect(crossed.status).toBe(401);
  });

  it('reports its vector engine on /healthz', async () => {
    const health = await fetch(`${acme.base}/healthz`);
    const body = (await health.json()) as Record<string, unknown>;
    expect(health.status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      service: 'library',
      embedder: { id: 'lexical-hash', dimensions: 384 },
    });
    expect(['pgvector', 'exact']).toContain(body.vectorEngine);
  });
});
