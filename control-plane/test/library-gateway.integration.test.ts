import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';

/**
 * The library through the platform as a customer reaches it: the gateway, the tenant's own
 * host process (started by the platform's supervisor) and the tenant's own database, with
 * tenant API keys. Tenant B's key never finds tenant A's documents.
 */

let fixture: PlatformFixture;
const keys: Record<string, string> = {};

async function createTenantWithKey(slug: string): Promise<void> {
  const created = await fixture.api('/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
  });
  expect(created.status).toBe(202);
  await fixture.waitForPhase(slug, 'Ready', 90_000);
  const issued = await fixture.api(`/api/v1/tenants/${slug}/api-keys`, {
    method: 'POST',
    body: JSON.stringify({ name: 'library-test' }),
  });
  expect(issued.status).toBe(201);
  keys[slug] = ((await issued.json()) as { key: string }).key;
}

/** A body to send, and request headers beyond the key and content type. */
interface LibraryRequest {
  body?: unknown;
  headers?: Record<string, string>;
}

function library(slug: string, path: string, key: string | undefined, init: LibraryRequest = {}) {
  const { body, headers = {} } = init;
  return fetch(`${fixture.platform.url}/t/${slug}/library${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

beforeAll(async () => {
  fixture = await startPlatformFixture();
  await Promise.all([createTenantWithKey('lib-acme'), createTenantWithKey('lib-globex')]);
}, 180_000);

afterAll(async () => {
  await fixture.close();
});

describe('library through the gateway with tenant API keys', () => {
  it('ingests, searches and answers in the tenant’s own data plane; another tenant sees nothing', async () => {
    const ingested = await library('lib-acme', '/v1/documents', keys['lib-acme'], {
      body: {
        title: 'Travel policy',
        content:
          '# Travel\n\nBook trains for trips under four hours. Questions go to travel@acme.example.\n',
        mediaType: 'text/markdown',
        license: 'MIT',
        source: 'intranet',
      },
    });
    expect(ingested.status).toBe(201);
    const document = (await ingested.json()) as { id: string; redactions: { total: number } };
    expect(document.redactions.total).toBe(1);

    const search = await library('lib-acme', '/v1/search?q=trains', keys['lib-acme']);
    expect(search.status).toBe(200);
    const found = (await search.json()) as { hits: Array<{ documentId: string; text: string }> };
    expect(found.hits[0]?.documentId).toBe(document.id);
    expect(found.hits[0]?.text).not.toContain('travel@acme.example');

    const answer = await library('lib-acme', '/v1/answers', keys['lib-acme'], {
      body: { question: 'When do we book trains?' },
    });
    expect(((await answer.json()) as { answer: string }).answer).toMatch(/trains/);

    // Globex's key, in Globex's library: nothing of Acme's.
    const other = await library('lib-globex', '/v1/search?q=trains', keys['lib-globex']);
    expect(other.status).toBe(200);
    expect(((await other.json()) as { hits: unknown[] }).hits).toEqual([]);
    expect(
      (await library('lib-globex', `/v1/documents/${document.id}`, keys['lib-globex'])).status,
    ).toBe(404);
    // Globex's key does not open Acme's library, and no key opens nothing.
    expect([401, 403]).toContain(
      (await library('lib-acme', '/v1/search?q=trains', keys['lib-globex'])).status,
    );
    expect((await library('lib-acme', '/v1/search?q=trains', undefined)).status).toBe(401);
  });

  it('ingests asynchronously through the gateway: 202, a job under /t/{slug}, then indexed', async () => {
    const accepted = await library('lib-acme', '/v1/documents', keys['lib-acme'], {
      body: {
        title: 'Security policy',
        content: '# Badges\n\nVisitors wear orange badges at all times.\n',
        mediaType: 'text/markdown',
        license: 'MIT',
        source: 'intranet',
      },
      headers: { prefer: 'respond-async', 'idempotency-key': 'security-policy-1' },
    });
    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location') ?? '';
    expect(location).toMatch(/^\/t\/lib-acme\/library\/v1\/jobs\/[0-9a-f-]{36}$/);
    let status = '';
    for (let attempt = 0; attempt < 60 && status !== 'succeeded'; attempt += 1) {
      const job = await fetch(`${fixture.platform.url}${location}`, {
        headers: { authorization: `Bearer ${keys['lib-acme'] ?? ''}` },
      });
      status = ((await job.json()) as { status: string }).status;
      if (status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toBe('succeeded');
    const search = await library('lib-acme', '/v1/search?q=orange%20badges', keys['lib-acme']);
    const found = (await search.json()) as { hits: Array<{ text: string }> };
    expect(found.hits[0]?.text).toContain('orange badges');
  }, 30_000);
});
