import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '../../runtime/test/test-token-issuer.ts';
import { GATEWAY_ASSERTION_TYPE, serviceAudience } from '@citadel/data-plane-runtime';
import {
  callLibrary,
  queryTenant,
  startLibraryTenantHost,
  userToken,
  type LibraryTenantHost,
} from './library-tenant-host.ts';

const TENANT_ID = 'b1c5f0d6-3c1e-4c36-9d55-0000000000c1';

let issuer: TestTokenIssuer;
let tenant: LibraryTenantHost;
/** Tokens by who holds them. */
const tokens: Record<'alice' | 'bob' | 'admin' | 'viewer' | 'key', string> = {
  alice: '',
  bob: '',
  admin: '',
  viewer: '',
  key: '',
};

function document(title: string, content: string, extra: Record<string, unknown> = {}) {
  return {
    title,
    content,
    mediaType: 'text/markdown',
    license: 'CC-BY-4.0',
    source: `https://intranet.example.com/${title.toLowerCase().replaceAll(' ', '-')}`,
    ...extra,
  };
}

async function ingest(token: string, body: unknown, headers: Record<string, string> = {}) {
  return callLibrary(tenant, token, '/v1/documents', { body, headers });
}

interface Hit {
  documentId: string;
  text: string;
  citation: { version: number };
}

/**
 * The documents whose hits contain `query` (a rare word): the vector ranking also returns
 * nearest neighbours that do not contain it, which these tests are not about.
 */
async function searchIds(token: string, query: string, extra = ''): Promise<string[]> {
  return (await matchingHits(token, query, extra)).map((hit) => hit.documentId);
}

async function matchingHits(token: string, query: string, extra = ''): Promise<Hit[]> {
  const found = await callLibrary(
    tenant,
    token,
    `/v1/search?q=${encodeURIComponent(query)}&limit=50${extra}`,
  );
  expect(found.status).toBe(200);
  return (found.body.hits as Hit[]).filter((hit) =>
    hit.text.toLowerCase().includes(query.toLowerCase()),
  );
}

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  tenant = await startLibraryTenantHost({
    slug: 'initech',
    id: TENANT_ID,
    issuer,
    options: {
      retention: { keepOriginals: true, originalsRetentionDays: 30 },
      // The worker resumes queued jobs every 200 ms here (every 5 s by default).
      workerIntervalMs: 200,
    },
  });
  tokens.alice = await userToken(issuer, TENANT_ID, 'alice', ['member']);
  tokens.bob = await userToken(issuer, TENANT_ID, 'bob', ['member']);
  tokens.admin = await userToken(issuer, TENANT_ID, 'carol', ['admin']);
  tokens.viewer = await userToken(issuer, TENANT_ID, 'victor', ['viewer']);
  tokens.key = await issuer.sign(
    {
      sub: 'key-1',
      aud: serviceAudience('library'),
      tenant: TENANT_ID,
      principal_type: 'api-key',
      scopes: ['*'],
    },
    { typ: GATEWAY_ASSERTION_TYPE },
  );
}, 120_000);

afterAll(async () => {
  await tenant.close();
  await issuer.close();
});

describe('document-level access control, decided by Cedar', () => {
  let restrictedId = '';
  let internalId = '';

  it('lets a member add a restricted document only they, admins and owners can retrieve', async () => {
    const restricted = await ingest(
      tokens.alice,
      document('Merger plan', '# Merger plan\n\nThe zeppelin acquisition closes in March.', {
        classification: 'restricted',
      }),
    );
    expect(restricted.status).toBe(201);
    restrictedId = restricted.body.id ?? '';
    const internal = await ingest(
      tokens.bob,
      document('Canteen menu', '# Canteen menu\n\nThe zeppelin soup is served on Fridays.'),
    );
    expect(internal.status).toBe(201);
    internalId = internal.body.id ?? '';

    expect(await searchIds(tokens.alice, 'zeppelin')).toEqual(
      expect.arrayContaining([restrictedId, internalId]),
    );
    expect(await searchIds(tokens.admin, 'zeppelin')).toContain(restrictedId);
    const bobSees = await searchIds(tokens.bob, 'zeppelin');
    expect(bobSees).toContain(internalId);
    expect(bobSees).not.toContain(restrictedId);
    // The API key (scope *) reads like a member: not the restricted document.
    const keySees = await searchIds(tokens.key, 'zeppelin');
    expect(keySees).toEqual([internalId]);
  });

  it('answers 404 for a document the caller may not read, and no answer cites it', async () => {
    const refused = await callLibrary(tenant, tokens.bob, `/v1/documents/${restrictedId}`);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await callLibrary(tenant, tokens.alice, `/v1/documents/${restrictedId}`)).status).toBe(
      200,
    );
    const answer = await callLibrary(tenant, tokens.bob, '/v1/answers', {
      body: { question: 'When does the zeppelin acquisition close?' },
    });
    expect(answer.status).toBe(200);
    const cited = (answer.body.citations as Array<{ documentId: string }>).map(
      (citation) => citation.documentId,
    );
    expect(cited).not.toContain(restrictedId);
  });

  it('refuses changes by those who may only read, and finds nothing for viewers', async () => {
    const change = await ingest(
      tokens.alice,
      document('Canteen menu', '# Canteen menu\n\nNo more soup.', { documentId: internalId }),
    );
    // Starter plan: members change only their own documents.
    expect(change.status).toBe(403);
    const erase = await callLibrary(tenant, tokens.bob, `/v1/documents/${restrictedId}`, {
      method: 'DELETE',
    });
    expect(erase.status).toBe(404);
    expect(await searchIds(tokens.viewer, 'zeppelin')).toEqual([]);
  });
});

describe('encrypted originals under the retention policy', () => {
  it('keeps the unredacted upload encrypted; only administrators read it back', async () => {
    const secret = 'Reach the auditor at dana.auditor@example.com about ledger 77.';
    const ingested = await ingest(tokens.alice, document('Audit contact', `# Audit\n\n${secret}`));
    expect(ingested.status).toBe(201);
    expect(ingested.body.originalKept).toBe(true);
    const id = ingested.body.id ?? '';

    const rows = await queryTenant<{ ciphertext: Buffer; expires_at: Date }>(
      tenant,
      'SELECT ciphertext, expires_at FROM library.originals WHERE document_id = $1',
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.ciphertext.toString('latin1')).not.toContain('dana.auditor');
    expect(rows[0]?.expires_at.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const asAdmin = await callLibrary(
      tenant,
      tokens.admin,
      `/v1/documents/${id}/versions/1/original`,
    );
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.headers.get('content-type')).toBe('text/markdown');
    expect(asAdmin.raw.toString('utf8')).toContain('dana.auditor@example.com');

    const asOwner = await callLibrary(
      tenant,
      tokens.alice,
      `/v1/documents/${id}/versions/1/original`,
    );
    expect(asOwner.status).toBe(403);
    // The searchable text holds the placeholder only.
    const stored = await queryTenant<{ text: string }>(
      tenant,
      'SELECT text FROM library.document_versions WHERE document_id = $1',
      [id],
    );
    expect(stored[0]?.text).not.toContain('dana.auditor');
  });
});

describe('knowledge-base snapshots', () => {
  it('searches as of a snapshot and rolls the knowledge base back to it', async () => {
    const first = await ingest(
      tokens.alice,
      document('Onboarding', '# Onboarding\n\nNew hires collect a quokka badge on day one.'),
    );
    const id = first.body.id ?? '';
    const taken = await callLibrary(tenant, tokens.admin, '/v1/snapshots', {
      body: { name: 'before-q3', description: 'The knowledge base before the Q3 rewrite' },
    });
    expect(taken.status).toBe(201);
    expect(taken.body.documents).toBeGreaterThanOrEqual(1);

    const second = await ingest(
      tokens.alice,
      document('Onboarding', '# Onboarding\n\nNew hires collect a wombat badge on day two.', {
        documentId: id,
      }),
    );
    expect(second.body.version).toBe(2);
    const added = await ingest(
      tokens.alice,
      document('Parking', '# Parking\n\nWombat parking is on level three.'),
    );
    const addedId = added.body.id ?? '';

    // Now: version 2 and the new document; as of the snapshot: version 1 only.
    expect(await searchIds(tokens.alice, 'wombat')).toEqual(expect.arrayContaining([id, addedId]));
    expect(await searchIds(tokens.alice, 'quokka')).not.toContain(id);
    expect(await searchIds(tokens.alice, 'quokka', '&snapshot=before-q3')).toEqual([id]);
    expect(await searchIds(tokens.alice, 'wombat', '&snapshot=before-q3')).toEqual([]);
    const asOf = await matchingHits(tokens.alice, 'badge', '&snapshot=before-q3');
    expect(asOf.map((hit) => [hit.documentId, hit.citation.version])).toEqual([[id, 1]]);

    // Members may not roll back; administrators may.
    const refused = await callLibrary(tenant, tokens.alice, '/v1/snapshots/before-q3/rollback', {
      method: 'POST',
    });
    expect(refused.status).toBe(403);
    const rolled = await callLibrary(tenant, tokens.admin, '/v1/snapshots/before-q3/rollback', {
      method: 'POST',
    });
    expect(rolled.status).toBe(200);
    expect(rolled.body.changed).toBeGreaterThanOrEqual(2);

    expect(await searchIds(tokens.alice, 'quokka')).toEqual([id]);
    expect(await searchIds(tokens.alice, 'wombat')).toEqual([]);
    const onboarding = await callLibrary(tenant, tokens.alice, `/v1/documents/${id}`);
    expect(onboarding.body).toMatchObject({ currentVersion: 1, latestVersion: 2 });
    // Version 2 stays citable until deleted; the parking document left the knowledge base.
    const parking = await callLibrary(tenant, tokens.alice, `/v1/documents/${addedId}`);
    expect(parking.body).toMatchObject({ currentVersion: null });

    // A re-ingest of the rolled-back content is a new version 3 again.
    const third = await ingest(
      tokens.alice,
      document('Onboarding', '# Onboarding\n\nNew hires collect a wombat badge on day two.', {
        documentId: id,
      }),
    );
    expect(third.body).toMatchObject({ version: 3, unchanged: false });
  });

  it('refuses a duplicate name, an unknown snapshot and a bad name with problems', async () => {
    const duplicate = await callLibrary(tenant, tokens.admin, '/v1/snapshots', {
      body: { name: 'before-q3' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.type).toMatch(/snapshot-exists$/);
    expect(
      (await callLibrary(tenant, tokens.alice, '/v1/search?q=badge&snapshot=nope')).status,
    ).toBe(404);
    const bad = await callLibrary(tenant, tokens.admin, '/v1/snapshots', {
      body: { name: 'Not A Name' },
    });
    expect(bad.status).toBe(400);
    const listed = await callLibrary(tenant, tokens.alice, '/v1/snapshots');
    expect((listed.body.snapshots as Array<{ name: string }>).map((s) => s.name)).toContain(
      'before-q3',
    );
  });
});

describe('deleting versions and documents', () => {
  it('moves the current version back when it is deleted, and erases a document whole', async () => {
    const first = await ingest(
      tokens.alice,
      document('Holidays', '# Holidays\n\nThe office closes for the narwhal festival.'),
    );
    const id = first.body.id ?? '';
    await ingest(
      tokens.alice,
      document('Holidays', '# Holidays\n\nThe office closes for the platypus festival.', {
        documentId: id,
      }),
    );
    expect(await searchIds(tokens.alice, 'platypus')).toEqual([id]);
    const dropped = await callLibrary(tenant, tokens.alice, `/v1/documents/${id}/versions/2`, {
      method: 'DELETE',
    });
    expect(dropped.status).toBe(204);
    expect(await searchIds(tokens.alice, 'platypus')).toEqual([]);
    expect(await searchIds(tokens.alice, 'narwhal')).toEqual([id]);

    const erased = await callLibrary(tenant, tokens.alice, `/v1/documents/${id}`, {
      method: 'DELETE',
    });
    expect(erased.status).toBe(204);
    expect(await searchIds(tokens.alice, 'narwhal')).toEqual([]);
    const left = await queryTenant<{ n: string }>(
      tenant,
      `SELECT (SELECT count(*) FROM library.chunks WHERE document_id = $1)
            + (SELECT count(*) FROM library.document_versions WHERE document_id = $1) AS n`,
      [id],
    );
    expect(left[0]?.n).toBe('0');
    const events = await queryTenant<{ event_type: string }>(
      tenant,
      `SELECT event_type FROM library.outbox WHERE payload->>'documentId' = $1 ORDER BY id`,
      [id],
    );
    expect(events.map((event) => event.event_type)).toEqual([
      'DocumentIngested',
      'DocumentIndexed',
      'DocumentIngested',
      'DocumentIndexed',
      'DocumentVersionDeleted',
      'DocumentDeleted',
    ]);
  });
});

describe('idempotent and asynchronous ingestion', () => {
  it('replays a retried request with the same Idempotency-Key instead of duplicating it', async () => {
    const body = document('Retry me', '# Retry\n\nThe axolotl tank is cleaned weekly.');
    const headers = { 'idempotency-key': 'upload-axolotl-1' };
    const first = await ingest(tokens.alice, body, headers);
    expect(first.status).toBe(201);
    const again = await ingest(tokens.alice, body, headers);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await searchIds(tokens.alice, 'axolotl')).toEqual([first.body.id]);

    const other = await ingest(tokens.alice, { ...body, title: 'Another' }, headers);
    expect(other.status).toBe(422);
    expect(other.body.type).toMatch(/idempotency-key-reused$/);
  });

  it('accepts Prefer: respond-async with 202 and a job that the worker finishes', async () => {
    const accepted = await ingest(
      tokens.alice,
      document('Later', '# Later\n\nThe capybara pool opens at noon.'),
      { prefer: 'respond-async' },
    );
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'queued' });
    const location = accepted.headers.get('location') ?? '';
    expect(location).toMatch(/^\/library\/v1\/jobs\//);
    const jobPath = location.replace('/library', '');
    expect((await callLibrary(tenant, tokens.alice, jobPath)).body.status).toBe('queued');
    // Another member cannot see the job.
    expect((await callLibrary(tenant, tokens.bob, jobPath)).status).toBe(404);

    await waitForJob(jobPath);
    const done = await callLibrary(tenant, tokens.alice, jobPath);
    expect(done.body).toMatchObject({ status: 'succeeded', documentId: accepted.body.id });
    expect(await searchIds(tokens.alice, 'capybara')).toEqual([accepted.body.id]);
    // Job inputs do not outlive the job.
    const inputs = await queryTenant<{ input: Buffer | null }>(
      tenant,
      'SELECT input FROM library.ingestion_jobs WHERE document_id = $1',
      [accepted.body.id],
    );
    expect(inputs[0]?.input).toBeNull();
  });
});

/** Polls a job until the service's worker has finished it. */
async function waitForJob(jobPath: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const job = await callLibrary(tenant, tokens.alice, jobPath);
    if (job.body.status === 'succeeded' || job.body.status === 'failed') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${jobPath} did not finish`);
}
