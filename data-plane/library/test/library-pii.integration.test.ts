import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLineLogger, readTenantDataCipher } from '@citadel/data-plane-runtime';
import {
  createTestTenantDatabase,
  type TestTenantDatabase,
} from '../../runtime/test/test-tenant-database.ts';
import { createLexicalHashEmbedder, type EmbeddingProvider } from '../src/embeddings/index.ts';
import { readIngestRequest } from '../src/ingestion/ingest-request.ts';
import { createLibrary, type Library } from '../src/library.ts';
import { documents, pii, secrets } from './fixtures/pii-corpus.ts';
import { freshDataKeys } from './library-tenant-host.ts';

const TENANT_ID = 'b1c5f0d6-3c1e-4c36-9d55-0000000000f1';
const ALICE = { type: 'user', id: 'alice', roles: ['member'] } as const;

let database: TestTenantDatabase;
let pool: pg.Pool;
let library: Library;
const logLines: string[] = [];
/** Every text the embedder was asked to embed: chunks and queries. */
const embeddingInputs: string[] = [];

/** The offline embedder, recording what it is given. */
function recordingEmbedder(): EmbeddingProvider {
  const offline = createLexicalHashEmbedder({ dimensions: 384 });
  return {
    id: offline.id,
    model: offline.model,
    dimensions: offline.dimensions,
    embed(texts, options) {
      embeddingInputs.push(...texts);
      return offline.embed(texts, options);
    },
  };
}

const everyValue = [...pii.map((sample) => sample.value), ...Object.values(secrets)];

beforeAll(async () => {
  database = await createTestTenantDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 3 });
  pool.on('error', () => undefined); // an idle connection ended at teardown
  library = await createLibrary({
    pool,
    logger: createJsonLineLogger({ write: (line: string) => logLines.push(line) }, {}),
    tenantId: TENANT_ID,
    cipher: readTenantDataCipher({ CITADEL_TENANT_DATA_KEYS: freshDataKeys() }),
    embedder: recordingEmbedder(),
    workerIntervalMs: 0,
    retention: { keepOriginals: true, originalsRetentionDays: null },
  });
}, 120_000);

afterAll(async () => {
  await library.close();
  await pool.end();
  await database.drop();
});

describe('the seeded PII corpus through the whole library', () => {
  it('reaches no chunk, embedding input, stored text, job row or log line', async () => {
    for (const [index, content] of documents.entries()) {
      const outcome = await library.ingest(
        readIngestRequest({
          title: `Record ${String(index)}`,
          content,
          mediaType: 'text/plain',
          license: 'CC-BY-4.0',
          source: 'crm-export',
        }),
        { principal: ALICE, idempotencyKey: `pii-${String(index)}` },
      );
      expect(outcome.kind).toBe('done');
    }
    // Queries are embedded too: a search for a personal value embeds its redaction.
    await library.search(new URLSearchParams({ q: `contact ${pii[0]?.value ?? ''}` }), ALICE);

    const { rows } = await pool.query<{ stored: string }>(
      `SELECT concat_ws(' ',
         (SELECT string_agg(text, ' ') FROM library.chunks),
         (SELECT string_agg(text || redaction_report::text, ' ') FROM library.document_versions),
         (SELECT string_agg(coalesce(result::text, '') || encode(coalesce(input, ''), 'escape'), ' ')
            FROM library.ingestion_jobs),
         (SELECT string_agg(encode(ciphertext, 'escape'), ' ') FROM library.originals),
         (SELECT string_agg(payload::text, ' ') FROM library.outbox)) AS stored`,
    );
    const places = {
      'embedding inputs': embeddingInputs.join('\n'),
      'stored rows': rows[0]?.stored ?? '',
      'log lines': logLines.join('\n'),
    };
    expect(embeddingInputs.length).toBeGreaterThan(documents.length);
    for (const [place, text] of Object.entries(places)) {
      for (const value of everyValue) {
        expect(text.includes(value), `${value.slice(0, 12)}… in ${place}`).toBe(false);
      }
    }
  });
});
