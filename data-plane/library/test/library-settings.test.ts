import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  readTenantDataCipher,
  TenantDataCipherError,
  type TenantDataCipher,
} from '@citadel/data-plane-runtime';
import {
  createTestTenantDatabase,
  type TestTenantDatabase,
} from '../../runtime/test/test-tenant-database.ts';
import { LibraryRequestError } from '../src/http/library-requests.ts';
import {
  createLibrarySettingsStore,
  DEFAULT_LIBRARY_SETTINGS,
  embeddingProviderFor,
  ensureLibrarySettingsSchema,
  type LibrarySettingsStore,
} from '../src/settings/library-settings.ts';
import { ensureLibrarySchema, vectorLiteral } from '../src/store/library-schema.ts';

const API_KEY = 'sk-test-5f1e0c2d9a8b7c6d5e4f3a2b1c0d9e8f';

function cipherWith(active: number, keys: Record<number, Buffer>): TenantDataCipher {
  const encoded = Object.fromEntries(
    Object.entries(keys).map(([version, key]) => [version, key.toString('base64')]),
  );
  const cipher = readTenantDataCipher({
    CITADEL_TENANT_DATA_KEYS: JSON.stringify({ active, keys: encoded }),
  });
  if (!cipher) throw new Error('expected a cipher');
  return cipher;
}

const cipher = cipherWith(1, { 1: randomBytes(32) });

/** The error an action rejects with, for assertions on its problem. */
async function refusal(action: Promise<unknown>): Promise<LibraryRequestError> {
  try {
    await action;
  } catch (error) {
    if (error instanceof LibraryRequestError) return error;
    throw error;
  }
  throw new Error('expected a LibraryRequestError');
}

interface RawRow {
  revision: number;
  settings: unknown;
  embedding_api_key: Buffer | null;
  embedding_api_key_version: number | null;
  updated_by: string | null;
}

/** An embeddings server speaking OpenAI's protocol, recording what it was sent. */
interface EmbeddingsServer {
  baseUrl: string;
  requests: Array<{ headers: IncomingHttpHeaders; body: { model: string; input: string[] } }>;
  close(): Promise<void>;
}

async function startEmbeddingsServer(dimensions: number): Promise<EmbeddingsServer> {
  const requests: EmbeddingsServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        model: string;
        input: string[];
      };
      requests.push({ headers: request.headers, body });
      const data = body.input.map((_, index) => ({
        index,
        embedding: Array.from({ length: dimensions }, (_value, position) => position + index),
      }));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const openAi = (overrides: Record<string, unknown> = {}) => ({
  embeddings: {
    provider: 'openai-compatible',
    baseUrl: 'https://embeddings.example.com/',
    model: 'text-embedding-3-small',
    dimensions: 1536,
    ...overrides,
  },
});

let database: TestTenantDatabase;
let pool: pg.Pool;
let store: LibrarySettingsStore;

async function rawRows(): Promise<RawRow[]> {
  const { rows } = await pool.query<RawRow>(
    `SELECT revision, settings, embedding_api_key, embedding_api_key_version, updated_by
       FROM library.settings`,
  );
  return rows;
}

beforeAll(async () => {
  database = await createTestTenantDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 6 });
  // An idle connection ended by the server's teardown is no test failure (an unheard pool
  // error would end the process).
  pool.on('error', () => undefined);
  store = createLibrarySettingsStore(pool, cipher);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

describe('ensureLibrarySettingsSchema', () => {
  it('creates the library schema and its settings table, idempotently and concurrently', async () => {
    const before = await pool.query("SELECT 1 FROM pg_namespace WHERE nspname = 'library'");
    expect(before.rowCount).toBe(0);
    await Promise.all([
      ensureLibrarySettingsSchema(pool),
      ensureLibrarySettingsSchema(pool),
      ensureLibrarySettingsSchema(pool),
    ]);
    await ensureLibrarySettingsSchema(pool);
    expect(await rawRows()).toEqual([]);
  });
});

describe('createLibrarySettingsStore', () => {
  beforeAll(() => ensureLibrarySettingsSchema(pool));
  beforeEach(async () => {
    await pool.query('TRUNCATE library.settings');
  });

  it('reads the defaults, at revision 0, while nothing was saved', async () => {
    expect(await store.get()).toEqual({ ...DEFAULT_LIBRARY_SETTINGS, revision: 0, etag: '"0"' });
    expect(await store.embeddingSettings()).toEqual({ provider: 'lexical-hash' });
  });

  it('saves every setting, says who changed it, and never reads the API key back', async () => {
    const patch = {
      licensePolicy: {
        ingest: { deny: ['NONE', 'NOASSERTION', 'GPL-*'] },
        training: { allow: ['MIT', 'Apache-2.0', 'GPL-2.0-only WITH Classpath-exception-2.0'] },
      },
      retention: { keepOriginals: true, originalsRetentionDays: 90 },
      nearDuplicateThreshold: 0.9,
      ...openAi({ apiKey: API_KEY }),
    };
    const { settings, embeddingChanged } = await store.update(patch, 'user:ada');
    expect(embeddingChanged).toBe(true);
    expect(settings).toMatchObject({
      licensePolicy: patch.licensePolicy,
      retention: patch.retention,
      nearDuplicateThreshold: 0.9,
      embeddings: {
        provider: 'openai-compatible',
        baseUrl: 'https://embeddings.example.com',
        model: 'text-embedding-3-small',
        dimensions: 1536,
        apiKeyConfigured: true,
      },
      revision: 1,
      etag: '"1"',
      updatedBy: 'user:ada',
    });
    expect(Date.parse(settings.updatedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(await store.get()).toEqual(settings);
    expect(JSON.stringify(await store.get())).not.toContain(API_KEY);
  });

  it('stores the API key sealed with the tenant data key, never in clear', async () => {
    await store.update(openAi({ apiKey: API_KEY }), 'user:ada');
    const [row] = await rawRows();
    if (!row?.embedding_api_key) throw new Error('expected a sealed key');
    expect(JSON.stringify(row.settings)).not.toContain(API_KEY);
    expect(row.embedding_api_key.includes(Buffer.from(API_KEY))).toBe(false);
    expect(row.embedding_api_key_version).toBe(1);
    const { rows } = await pool.query<{ found: boolean }>(
      `SELECT position(convert_to($1, 'UTF8') IN embedding_api_key) > 0
           OR settings::text LIKE '%' || $1 || '%' AS found
         FROM library.settings`,
      [API_KEY],
    );
    expect(rows[0]?.found).toBe(false);
    expect(await store.embeddingSettings()).toMatchObject({
      apiKeyEnvelope: row.embedding_api_key,
    });
  });

  it('keeps the key while the base URL stays, drops it when the URL moves, removes it on null', async () => {
    await store.update(openAi({ apiKey: API_KEY }), 'user:ada');
    const renamed = await store.update(openAi({ model: 'text-embedding-3-small' }), 'user:ada');
    expect(renamed.settings.embeddings).toMatchObject({ apiKeyConfigured: true });

    const moved = await store.update(
      openAi({ baseUrl: 'https://elsewhere.example.com' }),
      'user:ada',
    );
    expect(moved.settings.embeddings).toMatchObject({ apiKeyConfigured: false });
    expect(moved.embeddingChanged).toBe(false);

    await store.update(openAi({ baseUrl: 'https://elsewhere.example.com', apiKey: API_KEY }), 'u');
    const removed = await store.update(
      openAi({ baseUrl: 'https://elsewhere.example.com', apiKey: null }),
      'user:ada',
    );
    expect(removed.settings.embeddings).toMatchObject({ apiKeyConfigured: false });
    expect((await rawRows())[0]?.embedding_api_key).toBeNull();

    await store.update(openAi({ apiKey: API_KEY }), 'user:ada');
    const lexical = await store.update({ embeddings: { provider: 'lexical-hash' } }, 'user:ada');
    expect(lexical).toMatchObject({
      embeddingChanged: true,
      settings: { embeddings: { provider: 'lexical-hash' } },
    });
    expect((await rawRows())[0]?.embedding_api_key).toBeNull();
  });

  it('changes only the settings a patch names', async () => {
    await store.update({ nearDuplicateThreshold: 0.95 }, 'user:ada');
    const { settings, embeddingChanged } = await store.update(
      { retention: { keepOriginals: true } },
      'user:bob',
    );
    expect(embeddingChanged).toBe(false);
    expect(settings).toMatchObject({
      nearDuplicateThreshold: 0.95,
      retention: { keepOriginals: true, originalsRetentionDays: null },
      licensePolicy: DEFAULT_LIBRARY_SETTINGS.licensePolicy,
      embeddings: { provider: 'lexical-hash' },
      revision: 2,
      updatedBy: 'user:bob',
    });
  });

  it('refuses an API key without a tenant data cipher (409), writing nothing', async () => {
    const withoutCipher = createLibrarySettingsStore(pool);
    const error = await refusal(withoutCipher.update(openAi({ apiKey: API_KEY }), 'user:ada'));
    expect(error.problem).toMatchObject({ status: 409, type: 'data-cipher-unavailable' });
    expect(await rawRows()).toEqual([]);
    // Without a key, the same provider needs no cipher.
    const saved = await withoutCipher.update(openAi(), 'user:ada');
    expect(saved.settings.embeddings).toMatchObject({ apiKeyConfigured: false });
  });

  it('refuses invalid settings with every field at fault, writing nothing', async () => {
    await store.update({ nearDuplicateThreshold: 0.9 }, 'user:ada');
    const error = await refusal(
      store.update(
        {
          colour: 'blue',
          nearDuplicateThreshold: 0.3,
          retention: { keepOriginals: 'yes', originalsRetentionDays: 0 },
          licensePolicy: {
            ingest: { allow: ['MIT', 'Not-A-Licence'], deny: 'GPL-*' },
            training: { allow: ['BSD-*'], except: [] },
          },
          embeddings: {
            provider: 'openai-compatible',
            baseUrl: 'ftp://embeddings.example.com',
            model: '',
            dimensions: 4096,
            apiKey: 'has a space',
            organisation: 'acme',
          },
        },
        'user:ada',
      ),
    );
    expect(error.problem.status).toBe(400);
    const paths = (error.problem.errors as Array<{ path: string }>).map((found) => found.path);
    expect(paths.sort()).toEqual(
      [
        'colour',
        'embeddings.apiKey',
        'embeddings.baseUrl',
        'embeddings.dimensions',
        'embeddings.model',
        'embeddings.organisation',
        'licensePolicy.ingest.allow[1]',
        'licensePolicy.ingest.deny',
        'licensePolicy.training.except',
        'nearDuplicateThreshold',
        'retention.keepOriginals',
        'retention.originalsRetentionDays',
      ].sort(),
    );
    expect((await rawRows())[0]).toMatchObject({
      revision: 1,
      settings: { nearDuplicateThreshold: 0.9 },
    });
  });

  it.each([
    [
      'credentials in the URL',
      { baseUrl: 'https://user:secret@embeddings.example.com' },
      'embeddings.baseUrl',
    ],
    [
      'a query string',
      { baseUrl: 'https://embeddings.example.com/?key=secret' },
      'embeddings.baseUrl',
    ],
    ['a relative URL', { baseUrl: '/v1' }, 'embeddings.baseUrl'],
    ['a link-local address', { baseUrl: 'http://169.254.169.254' }, 'embeddings.baseUrl'],
    ['an IPv6 link-local address', { baseUrl: 'http://[fe80::1]:8000' }, 'embeddings.baseUrl'],
    ['fractional dimensions', { dimensions: 1.5 }, 'embeddings.dimensions'],
    ['an unknown provider', { provider: 'word2vec' }, 'embeddings.provider'],
  ])('refuses %s', async (_name, overrides, path) => {
    const error = await refusal(store.update(openAi(overrides), 'user:ada'));
    expect(error.problem.errors).toEqual([{ path, message: expect.any(String) as unknown }]);
  });

  it.each([
    ['not an object', [], ''],
    [
      'a lexical-hash provider with a model',
      { embeddings: { provider: 'lexical-hash', model: 'x' } },
      'embeddings.model',
    ],
    ['a threshold above 1', { nearDuplicateThreshold: 1.01 }, 'nearDuplicateThreshold'],
    [
      'a retention period for originals not kept',
      { retention: { keepOriginals: false, originalsRetentionDays: 30 } },
      'retention.originalsRetentionDays',
    ],
    [
      'a policy without training rules',
      { licensePolicy: { ingest: {} } },
      'licensePolicy.training',
    ],
  ])('refuses %s', async (_name, patch, path) => {
    const error = await refusal(store.update(patch, 'user:ada'));
    expect(error.problem.errors).toEqual([{ path, message: expect.any(String) as unknown }]);
  });
});

describe('optimistic concurrency', () => {
  beforeAll(() => ensureLibrarySettingsSchema(pool));
  beforeEach(async () => {
    await pool.query('TRUNCATE library.settings');
  });

  it('applies a change whose If-Match is current, and refuses a stale one with 412', async () => {
    const first = await store.update({ nearDuplicateThreshold: 0.9 }, 'user:ada', {
      ifMatch: '"0"',
    });
    expect(first.settings.etag).toBe('"1"');
    const stale = await refusal(
      store.update({ nearDuplicateThreshold: 0.8 }, 'user:bob', { ifMatch: '"0"' }),
    );
    expect(stale.problem).toMatchObject({ status: 412, type: 'precondition-failed' });
    const listed = await store.update({ nearDuplicateThreshold: 0.8 }, 'user:bob', {
      ifMatch: '"7", "1"',
    });
    expect(listed.settings).toMatchObject({ revision: 2, nearDuplicateThreshold: 0.8 });
    const any = await store.update({ nearDuplicateThreshold: 0.7 }, 'user:bob', { ifMatch: '*' });
    expect(any.settings.revision).toBe(3);
    const weak = await refusal(store.update({}, 'user:bob', { ifMatch: 'W/"3"' }));
    expect(weak.problem.status).toBe(412);
  });

  it.each([
    ['the first change', 0],
    ['a later change', 3],
  ])('lets one of two concurrent updates with the same If-Match win (%s)', async (_name, start) => {
    for (let index = 0; index < start; index += 1) {
      await store.update({ nearDuplicateThreshold: 0.6 }, 'user:setup');
    }
    const ifMatch = `"${start}"`;
    const results = await Promise.allSettled([
      store.update({ nearDuplicateThreshold: 0.91 }, 'user:ada', { ifMatch }),
      store.update({ nearDuplicateThreshold: 0.92 }, 'user:bob', { ifMatch }),
    ]);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result) => result.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0]?.reason as LibraryRequestError).problem.status).toBe(412);
    const settings = await store.get();
    expect(settings.revision).toBe(start + 1);
    expect(settings.nearDuplicateThreshold).toBe(won[0]?.value.settings.nearDuplicateThreshold);
  });

  it('serialises concurrent updates without If-Match: none is lost', async () => {
    await Promise.all(
      [0.7, 0.8, 0.9, 1].map((threshold) =>
        store.update({ nearDuplicateThreshold: threshold }, 'user:ada'),
      ),
    );
    expect((await store.get()).revision).toBe(4);
  });
});

describe('embeddingProviderFor', () => {
  let server: EmbeddingsServer;
  beforeAll(async () => {
    await ensureLibrarySettingsSchema(pool);
    server = await startEmbeddingsServer(8);
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    await pool.query('TRUNCATE library.settings');
    server.requests.length = 0;
  });

  it('builds the offline lexical-hash embedder by default', async () => {
    const provider = embeddingProviderFor(await store.embeddingSettings(), undefined);
    expect(provider).toMatchObject({ id: 'lexical-hash', dimensions: 384 });
  });

  it('builds the OpenAI-compatible embedder with the decrypted key', async () => {
    await store.update(
      openAi({ baseUrl: server.baseUrl, model: 'bge-small', dimensions: 8, apiKey: API_KEY }),
      'user:ada',
    );
    const provider = embeddingProviderFor(await store.embeddingSettings(), cipher, {
      maxRetries: 0,
    });
    expect(provider).toMatchObject({ id: 'openai-compatible', model: 'bge-small', dimensions: 8 });
    const [vector] = await provider.embed(['hello']);
    expect(vector).toHaveLength(8);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(server.requests[0]?.body.model).toBe('bge-small');
  });

  it('sends no key when none is configured', async () => {
    await store.update(openAi({ baseUrl: server.baseUrl, model: 'bge-small', dimensions: 8 }), 'u');
    await embeddingProviderFor(await store.embeddingSettings(), undefined).embed(['hello']);
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('needs the cipher to open a stored key, and the key opens only for its own base URL', async () => {
    await store.update(openAi({ baseUrl: server.baseUrl, dimensions: 8, apiKey: API_KEY }), 'u');
    const stored = await store.embeddingSettings();
    const error = (() => {
      try {
        embeddingProviderFor(stored, undefined);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(LibraryRequestError);
    expect((error as LibraryRequestError).problem.status).toBe(409);

    // Someone with write access to the table points the provider elsewhere: the key stays shut.
    await pool.query(
      `UPDATE library.settings
          SET settings = jsonb_set(settings, '{embeddings,baseUrl}', '"https://attacker.example"')`,
    );
    expect(() => embeddingProviderFor(stored, cipher)).not.toThrow();
    const moved = await store.embeddingSettings();
    expect(() => embeddingProviderFor(moved, cipher)).toThrow(TenantDataCipherError);
  });
});

describe('changing the embedding model while chunks exist', () => {
  let indexed: TestTenantDatabase;
  let indexedPool: pg.Pool;
  let indexedStore: LibrarySettingsStore;

  /** One document with one chunk, in the library's own tables. */
  async function storeOneChunk(): Promise<void> {
    const engine = await ensureLibrarySchema(indexedPool, { dimensions: 384 });
    const documentId = randomUUID();
    await indexedPool.query(
      `INSERT INTO library.documents (id, title, source, license, media_type, latest_version, created_by)
       VALUES ($1, 'Handbook', 'test', 'MIT', 'text/plain', 1, 'user:ada')`,
      [documentId],
    );
    await indexedPool.query(
      `INSERT INTO library.document_versions
         (document_id, version, content_digest, text, redaction_report, training_allowed, ingested_by)
       VALUES ($1, 1, 'digest', 'The library keeps every document it cites.', '{}', true, 'user:ada')`,
      [documentId],
    );
    await indexedPool.query(
      `INSERT INTO library.chunks (id, document_id, version, ordinal, text, start_offset, end_offset, embedding)
       VALUES ($1, $2, 1, 0, 'The library keeps every document it cites.', 0, 42, $3)`,
      [randomUUID(), documentId, vectorLiteral(new Float32Array(384), engine)],
    );
  }

  beforeAll(async () => {
    indexed = await createTestTenantDatabase();
    indexedPool = new pg.Pool({ connectionString: indexed.url });
    indexedPool.on('error', () => undefined);
    await ensureLibrarySettingsSchema(indexedPool);
    indexedStore = createLibrarySettingsStore(indexedPool, cipher);
  });

  afterAll(async () => {
    await indexedPool.end();
    await indexed.drop();
  });

  it('is allowed while no chunk exists, and reported', async () => {
    const changed = await indexedStore.update(openAi(), 'user:ada');
    expect(changed.embeddingChanged).toBe(true);
    await indexedStore.update({ embeddings: { provider: 'lexical-hash' } }, 'user:ada');
  });

  it('is refused with 409 unless a reindex is asked for, and then reported', async () => {
    await storeOneChunk();
    const before = (await indexedStore.get()).revision;
    const error = await refusal(indexedStore.update(openAi(), 'user:ada'));
    expect(error.problem).toMatchObject({ status: 409, type: 'reindex-required' });
    expect((await indexedStore.get()).revision).toBe(before);

    const other = await indexedStore.update({ nearDuplicateThreshold: 0.9 }, 'user:ada');
    expect(other.embeddingChanged).toBe(false);

    const reindexed = await indexedStore.update(openAi(), 'user:ada', { reindex: true });
    expect(reindexed.embeddingChanged).toBe(true);

    const moved = await indexedStore.update(openAi({ baseUrl: 'https://mirror.example.com' }), 'u');
    expect(moved.embeddingChanged).toBe(false);
    const resized = await refusal(indexedStore.update(openAi({ dimensions: 768 }), 'user:ada'));
    expect(resized.problem.type).toBe('reindex-required');
  });
});
