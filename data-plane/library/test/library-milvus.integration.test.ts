import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLineLogger } from '@citadel/data-plane-runtime';
import {
  createTestTenantDatabase,
  type TestTenantDatabase,
} from '../../runtime/test/test-tenant-database.ts';
import { readIngestRequest } from '../src/ingestion/ingest-request.ts';
import { createLibrary, type Library } from '../src/library.ts';
import { createMilvusVectorIndex } from '../src/vector/index.ts';
import {
  OK_STATUS,
  rowsOf,
  searchReply,
  startMilvusProtocolDouble,
  type MilvusProtocolDouble,
} from './milvus-protocol-double/milvus-protocol-double.ts';

const TENANT_ID = 'b1c5f0d6-3c1e-4c36-9d55-0000000000a7';
const ALICE = { type: 'user', id: 'alice', roles: ['member'] } as const;
const ADMIN = { type: 'user', id: 'ada', roles: ['admin'] } as const;

let database: TestTenantDatabase;
let pool: pg.Pool;
let double: MilvusProtocolDouble;
let client: MilvusClient;
let library: Library;
const logLines: string[] = [];

function document(title: string, content: string, documentId?: string) {
  return readIngestRequest({
    title,
    content,
    mediaType: 'text/markdown',
    license: 'MIT',
    source: 'intranet',
    ...(documentId ? { documentId } : {}),
  });
}

async function ingest(title: string, content: string, documentId?: string) {
  const outcome = await library.ingest(document(title, content, documentId), { principal: ALICE });
  if (outcome.kind !== 'done') throw new Error(`ingestion ${outcome.kind}`);
  return outcome.result;
}

async function events(documentId: string): Promise<string[]> {
  const { rows } = await pool.query<{ event_type: string }>(
    `SELECT event_type FROM library.outbox WHERE payload->>'documentId' = $1 ORDER BY id`,
    [documentId],
  );
  return rows.map((row) => row.event_type);
}

beforeAll(async () => {
  database = await createTestTenantDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 3 });
  pool.on('error', () => undefined); // an idle connection ended at teardown
  double = await startMilvusProtocolDouble();
  client = new MilvusClient({
    address: double.address,
    maxRetries: 0,
    telemetry: { enabled: false },
    logLevel: 'error',
  });
  library = await createLibrary({
    pool,
    logger: createJsonLineLogger({ write: (line: string) => logLines.push(line) }, {}),
    tenantId: TENANT_ID,
    workerIntervalMs: 0,
    vectorIndex: async (dimensions) => {
      const index = createMilvusVectorIndex({
        client,
        database: 'citadel_test_umbrella',
        dimensions,
      });
      await index.ensureCollection();
      return index;
    },
  });
}, 120_000);

afterAll(async () => {
  await library.close();
  await client.closeConnection();
  await double.close();
  await pool.end();
  await database.drop();
});

describe('the library on a Milvus vector index (against a Milvus protocol double: requests checked, no Milvus server)', () => {
  it('writes the chunks to PostgreSQL, then their vectors to Milvus, then DocumentIndexed', async () => {
    const result = await ingest('Ferries', '# Ferries\n\nThe ferry to the island leaves hourly.');
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id FROM library.chunks WHERE document_id = $1 ORDER BY ordinal',
      [result.id],
    );
    const upserted = double.callsTo('Upsert').flatMap((call) => rowsOf(call.request));
    expect(upserted.map((row) => row.chunk_id)).toEqual(rows.map((row) => row.id));
    expect(upserted[0]).toMatchObject({
      document_id: result.id,
      version: 1,
      classification: 'internal',
      owner_id: 'alice',
      current: true,
    });
    expect(double.callsTo('Upsert')[0]?.request.db_name).toBe('citadel_test_umbrella');
    expect(logLines.filter((line) => line.includes('vector index'))).toEqual([]);
    expect(await events(result.id)).toEqual(['DocumentIngested', 'DocumentIndexed']);
    expect((await library.describe()).pendingVectorSync).toBe(0);
  });

  it('searches Milvus with the caller’s access filter and reads the hits back from PostgreSQL', async () => {
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM library.chunks LIMIT 1');
    const chunkId = rows[0]?.id ?? '';
    double.answer('Search', searchReply([{ id: chunkId, score: 0.91 }]));
    const page = await library.search(new URLSearchParams({ q: 'boat timetable' }), ALICE);
    expect(page.hits.map((hit) => hit.chunkId)).toContain(chunkId);
    const search = double.callsTo('Search').at(-1)?.request ?? {};
    // Cedar's answer for a member: every classification but restricted, and their own.
    expect(search.dsl).toBe(
      'current == true and (classification in ["public", "internal", "confidential"] or ' +
        '(owner_id == "alice" and classification in ["public", "internal", "confidential", "restricted"]))',
    );
  });

  it('catches up after Milvus refused a write: nothing is lost, DocumentIndexed comes late', async () => {
    const refused = { status: { error_code: 'UnexpectedError', reason: 'rate limited', code: 8 } };
    double.answer('Upsert', refused);
    const result = await ingest('Trams', '# Trams\n\nThe tram runs every ten minutes.');
    expect(await events(result.id)).toEqual(['DocumentIngested']);
    expect((await library.describe()).pendingVectorSync).toBe(1);

    // The worker's next pass (here by hand): the vectors are written from PostgreSQL.
    await library.resumePendingJobs();
    const { rows } = await pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM library.chunks WHERE document_id = $1',
      [result.id],
    );
    const upserts = double
      .callsTo('Upsert')
      .flatMap((call) => rowsOf(call.request))
      .filter((row) => row.document_id === result.id);
    // Once refused, once written.
    expect(upserts.length).toBe(Number(rows[0]?.n) * 2);
    expect(await events(result.id)).toEqual(['DocumentIngested', 'DocumentIndexed']);
    expect((await library.describe()).pendingVectorSync).toBe(0);
  });

  it('follows deletions and rollbacks into Milvus', async () => {
    const result = await ingest('Buses', '# Buses\n\nThe night bus stops at the harbour.');
    await library.createSnapshot({ name: 'with-buses' }, ADMIN);
    await ingest('Buses', '# Buses\n\nThe night bus no longer runs.', result.id);
    double.reset();
    double.answer('Query', { status: OK_STATUS, fields_data: [] });
    await library.rollback('with-buses', ADMIN);
    // The current version moved back: the index was asked for the document's rows to flip.
    expect(JSON.stringify(double.callsTo('Query'))).toContain(result.id);

    double.reset();
    await library.deleteDocument(result.id, ALICE);
    const deletes = double.callsTo('Delete').map((call) => String(call.request.expr));
    expect(deletes.some((expr) => expr.includes(result.id))).toBe(true);
    expect((await library.describe()).pendingVectorSync).toBe(0);
  });
});
