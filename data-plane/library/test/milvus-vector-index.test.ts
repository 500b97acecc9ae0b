/**
 * The Milvus vector index, checked on the wire: no Milvus server can run here, so the SDK's real
 * `MilvusClient` talks gRPC to a Milvus protocol double on loopback, which decodes each request
 * with Milvus's own protocol definition (shipped in the SDK), records it and answers as Milvus's
 * protocol does. What is proven: the requests the index sends and how it reads replies, errors
 * included. Not proven: that a Milvus server accepts them or finds what the tests script.
 */
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createMilvusVectorIndex,
  MilvusVectorIndexError,
  type ChunkVector,
  type MilvusVectorIndex,
  type MilvusVectorIndexOptions,
} from '../src/vector/index.ts';
import { lexMilvusExpression } from './milvus-protocol-double/milvus-expression-lexer.ts';
import {
  OK_STATUS,
  boolColumn,
  decodeSearchVectors,
  floatVectorColumn,
  int32Column,
  int64Column,
  queryReply,
  rowsOf,
  searchReply,
  startMilvusProtocolDouble,
  upsertReply,
  varCharArrayColumn,
  varCharColumn,
  type MilvusProtocolDouble,
  type RecordedMilvusCall,
} from './milvus-protocol-double/milvus-protocol-double.ts';

const DIMENSIONS = 4;

let double: MilvusProtocolDouble;
let client: MilvusClient;
/** The tenant's Milvus database; a new one for each test, so no test sees the SDK's cache of another's collection. */
let tenantDatabase: string;
let tests = 0;

/** A client whose default database is `database`; the index names its own on every request. */
function connect(database = 'default', address = double.address): MilvusClient {
  return new MilvusClient({
    address,
    database,
    // One attempt per call and no heartbeats: the double records exactly the index's calls.
    maxRetries: 0,
    telemetry: { enabled: false },
    logLevel: 'error',
  });
}

function openIndex(options: Partial<MilvusVectorIndexOptions> = {}): MilvusVectorIndex {
  return createMilvusVectorIndex({
    client,
    database: tenantDatabase,
    dimensions: DIMENSIONS,
    ...options,
  });
}

/** A reader of internal documents, who owns none. */
const INTERNAL = { classifications: ['internal'], ownerId: undefined, ownClassifications: [] };

function chunk(overrides: Partial<ChunkVector> = {}): ChunkVector {
  return {
    chunkId: 'c-1',
    documentId: 'd-1',
    version: 1,
    embedding: new Float32Array([0.5, -0.25, 0, 1]),
    license: 'Apache-2.0',
    source: 'https://example.com/handbook',
    tags: ['policy', 'hr'],
    classification: 'internal',
    ownerId: 'user:u-1',
    ingestedAt: new Date('2026-03-01T10:00:00.000Z'),
    current: true,
    ...overrides,
  };
}

/** The index's own calls (the SDK's Connect at start is the client's, not the index's). */
const indexCalls = () => double.calls.filter((call) => call.method !== 'Connect');
const methodsCalled = () => indexCalls().map((call) => call.method);
/** The one call to `method`. */
const only = (method: string): RecordedMilvusCall => {
  const [call, ...more] = double.callsTo(method);
  if (call === undefined) throw new Error(`no ${method} call`);
  expect(more).toEqual([]);
  return call;
};
const keyValues = (request: Record<string, unknown>, key: string) =>
  Object.fromEntries(
    (request[key] as Array<{ key: string; value: string }>).map((pair) => [pair.key, pair.value]),
  );

/** A query reply holding these chunks as Milvus returns rows (every field). */
function rowsReply(chunks: readonly ChunkVector[]): object {
  return queryReply([
    varCharColumn(
      'chunk_id',
      chunks.map((c) => c.chunkId),
    ),
    varCharColumn(
      'document_id',
      chunks.map((c) => c.documentId),
    ),
    int32Column(
      'version',
      chunks.map((c) => c.version),
    ),
    varCharColumn(
      'document_version',
      chunks.map((c) => `${c.documentId}:${c.version}`),
    ),
    varCharColumn(
      'license',
      chunks.map((c) => c.license),
    ),
    varCharColumn(
      'source',
      chunks.map((c) => c.source),
    ),
    varCharArrayColumn(
      'tags',
      chunks.map((c) => c.tags),
    ),
    varCharColumn(
      'classification',
      chunks.map((c) => c.classification),
    ),
    varCharColumn(
      'owner_id',
      chunks.map((c) => c.ownerId ?? ''),
    ),
    int64Column(
      'ingested_at',
      chunks.map((c) => c.ingestedAt.getTime()),
    ),
    boolColumn(
      'current',
      chunks.map((c) => c.current),
    ),
    floatVectorColumn(
      'embedding',
      chunks.map((c) => Array.from(c.embedding)),
    ),
  ]);
}

async function rejection(promise: Promise<unknown>): Promise<MilvusVectorIndexError> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(MilvusVectorIndexError);
  return error as MilvusVectorIndexError;
}

// One double and one client for the file (a MilvusClient takes half a second to build its
// protocol definitions); each test starts from a fresh double.
beforeAll(async () => {
  double = await startMilvusProtocolDouble();
  client = connect();
});

beforeEach(() => {
  double.reset();
  tests += 1;
  tenantDatabase = `citadel_abc123_tenant${tests}`;
});

afterAll(async () => {
  await client.closeConnection();
  await double.close();
});

describe('Milvus vector index (request-building tests against a Milvus protocol double)', () => {
  describe('the collection', () => {
    it('is created in the tenant database with the chunk schema, an HNSW cosine index, and loaded', async () => {
      await openIndex().ensureCollection();

      expect(methodsCalled()).toEqual([
        'DescribeCollection',
        'CreateCollection',
        'CreateIndex',
        'LoadCollection',
        'GetLoadState',
      ]);
      const create = only('CreateCollection').request;
      expect(create).toMatchObject({
        db_name: tenantDatabase,
        collection_name: 'library_chunks',
        consistency_level: 'Strong',
      });
      const schema = double.collections.get(`${tenantDatabase}/library_chunks`) as {
        enable_dynamic_field: boolean;
        fields: Array<Record<string, unknown>>;
      };
      expect(schema.enable_dynamic_field).toBe(false);
      const fields = schema.fields.map((field) => ({
        name: field.name,
        type: field.data_type,
        element: field.element_type,
        primary: field.is_primary_key,
        params: keyValues(field, 'type_params'),
      }));
      expect(fields).toEqual([
        {
          name: 'chunk_id',
          type: 'VarChar',
          element: 'None',
          primary: true,
          params: { max_length: '64' },
        },
        {
          name: 'document_id',
          type: 'VarChar',
          element: 'None',
          primary: false,
          params: { max_length: '64' },
        },
        { name: 'version', type: 'Int32', element: 'None', primary: false, params: {} },
        {
          name: 'document_version',
          type: 'VarChar',
          element: 'None',
          primary: false,
          params: { max_length: '80' },
        },
        {
          name: 'license',
          type: 'VarChar',
          element: 'None',
          primary: false,
          params: { max_length: '2048' },
        },
        {
          name: 'source',
          type: 'VarChar',
          element: 'None',
          primary: false,
          params: { max_length: '8192' },
        },
        {
          name: 'tags',
          type: 'Array',
          element: 'VarChar',
          primary: false,
          params: { max_length: '512', max_capacity: '64' },
        },
        {
          name: 'classification',
          type: 'VarChar',
          element: 'None',
          primary: false,
          params: { max_length: '256' },
        },
        {
          name: 'owner_id',
          type: 'VarChar',
          element: 'None',
          primary: false,
          params: { max_length: '256' },
        },
        { name: 'ingested_at', type: 'Int64', element: 'None', primary: false, params: {} },
        { name: 'current', type: 'Bool', element: 'None', primary: false, params: {} },
        {
          name: 'embedding',
          type: 'FloatVector',
          element: 'None',
          primary: false,
          params: { dim: '4' },
        },
      ]);
      expect(schema.fields.find((field) => field.name === 'chunk_id')?.autoID).toBe(false);

      const index = only('CreateIndex').request;
      expect(index).toMatchObject({
        db_name: tenantDatabase,
        collection_name: 'library_chunks',
        field_name: 'embedding',
        index_name: 'embedding_hnsw',
      });
      expect(keyValues(index, 'extra_params')).toEqual({
        index_type: 'HNSW',
        metric_type: 'COSINE',
        params: '{"M":16,"efConstruction":64}',
      });
      expect(only('LoadCollection').request).toMatchObject({
        db_name: tenantDatabase,
        collection_name: 'library_chunks',
      });
    });

    it('is reused when it exists: index and load again (idempotent), never created twice', async () => {
      await openIndex().ensureCollection();
      double.calls.length = 0;

      await openIndex().ensureCollection();

      expect(methodsCalled()).toEqual([
        'DescribeCollection',
        'CreateIndex',
        'LoadCollection',
        'GetLoadState',
      ]);
    });

    it('waits until Milvus reports it loaded', async () => {
      double.answer(
        'GetLoadState',
        { status: { error_code: 'Success', reason: '' }, state: 'LoadStateLoading' },
        { status: { error_code: 'Success', reason: '' }, state: 'LoadStateLoading' },
      );
      await openIndex().ensureCollection();
      expect(double.callsTo('GetLoadState')).toHaveLength(3);
    });

    it('refuses an existing collection of other dimensions (schema-mismatch), creating nothing', async () => {
      await openIndex({ dimensions: 8 }).ensureCollection();
      double.calls.length = 0;

      const error = await rejection(openIndex().ensureCollection());

      expect(error.code).toBe('schema-mismatch');
      expect(error.message).toContain('8-dimensional');
      expect(methodsCalled()).toEqual(['DescribeCollection']);
    });

    it('is made ready again by the next call after a failed start', async () => {
      double.answer('DescribeCollection', {
        status: { error_code: 'UnexpectedError', code: 2, reason: 'service not ready' },
      });
      const index = openIndex();
      expect((await rejection(index.upsert([chunk()]))).code).toBe('milvus-rejected');

      await index.upsert([chunk()]);

      expect(double.callsTo('CreateCollection')).toHaveLength(1);
      expect(double.callsTo('Upsert')).toHaveLength(1);
    });

    it('is made ready once, before the first write or search', async () => {
      const index = openIndex();
      await index.upsert([chunk()]);
      await index.search(new Float32Array(DIMENSIONS).fill(1), {
        limit: 3,
        filters: {},
        readable: INTERNAL,
      });
      expect(double.callsTo('CreateCollection')).toHaveLength(1);
      expect(double.callsTo('GetLoadState')).toHaveLength(1);
    });
  });

  describe('upsert', () => {
    it('sends each chunk as a row: ids, filter fields, the version key and the vector', async () => {
      const index = openIndex();
      await index.ensureCollection();
      double.calls.length = 0;

      await index.upsert([
        chunk(),
        chunk({
          chunkId: 'c-2',
          version: 2,
          tags: [],
          current: false,
          embedding: new Float32Array([Number.NaN, 1, Infinity, 0.125]),
        }),
      ]);

      const upsert = only('Upsert').request;
      expect(upsert).toMatchObject({
        db_name: tenantDatabase,
        collection_name: 'library_chunks',
        num_rows: 2,
      });
      expect(rowsOf(upsert)).toEqual([
        {
          chunk_id: 'c-1',
          document_id: 'd-1',
          version: 1,
          document_version: 'd-1:1',
          license: 'Apache-2.0',
          source: 'https://example.com/handbook',
          tags: ['policy', 'hr'],
          classification: 'internal',
          owner_id: 'user:u-1',
          ingested_at: String(Date.parse('2026-03-01T10:00:00.000Z')),
          current: true,
          embedding: [0.5, -0.25, 0, 1],
        },
        expect.objectContaining({
          chunk_id: 'c-2',
          document_version: 'd-1:2',
          tags: [],
          current: false,
          // Non-finite values are written as 0, as the PostgreSQL store writes them.
          embedding: [0, 1, 0, 0.125],
        }),
      ]);
    });

    it('keeps quotes and backslashes in stored values as they are', async () => {
      await openIndex().upsert([chunk({ tags: ['a"b', 'c\\d'], source: 'say "hi"\\' })]);
      expect(rowsOf(only('Upsert').request)[0]).toMatchObject({
        tags: ['a"b', 'c\\d'],
        source: 'say "hi"\\',
      });
    });

    it('sends large writes in batches', async () => {
      const records = Array.from({ length: 5 }, (_, index) => chunk({ chunkId: `c-${index}` }));
      await openIndex({ batchSize: 2 }).upsert(records);
      expect(double.callsTo('Upsert').map((call) => rowsOf(call.request).length)).toEqual([
        2, 2, 1,
      ]);
    });

    it('sends nothing for no records, and refuses an embedding of the wrong length', async () => {
      const index = openIndex();
      await index.upsert([]);
      const error = await rejection(
        index.upsert([chunk({ embedding: new Float32Array(DIMENSIONS + 1) })]),
      );
      expect(error.code).toBe('invalid-argument');
      expect(methodsCalled()).toEqual([]);
    });

    it('fails when Milvus refuses some rows', async () => {
      const index = openIndex();
      await index.ensureCollection();
      double.answer('Upsert', { ...upsertReply(['c-1']), succ_index: [], err_index: [0] });
      const error = await rejection(index.upsert([chunk()]));
      expect(error).toMatchObject({ code: 'milvus-rejected', operation: 'Upsert' });
    });
  });

  describe('deleteDocument', () => {
    it('deletes by a document expression, all versions or some', async () => {
      const index = openIndex();
      await index.deleteDocument('d-1');
      await index.deleteDocument('d-1', [1, 2]);
      await index.deleteDocument('d-1', []);

      expect(double.callsTo('Delete').map((call) => call.request.expr)).toEqual([
        'document_id == "d-1"',
        'document_id == "d-1" and version in [1, 2]',
      ]);
      expect(double.callsTo('Delete')[0]?.request).toMatchObject({
        db_name: tenantDatabase,
        collection_name: 'library_chunks',
      });
    });

    it('cannot be widened by a hostile document id', async () => {
      const id = 'x" or document_id != "y';
      await openIndex().deleteDocument(id);
      const expression = String(only('Delete').request.expr);
      expect(lexMilvusExpression(expression)).toEqual({
        skeleton: 'document_id == $',
        literals: [id],
      });
    });
  });

  describe('search', () => {
    it('sends the vector, limit, metric, filter and consistency, and maps hits to cosine scores', async () => {
      const index = openIndex();
      await index.ensureCollection();
      double.answer(
        'Search',
        searchReply([
          { id: 'c-7', score: 0.75 },
          { id: 'c-3', score: 0.5 },
        ]),
      );

      const hits = await index.search(new Float32Array([0.25, 0.5, -1, 2]), {
        limit: 50,
        filters: { license: 'MIT', tags: ['hr'] },
        readable: INTERNAL,
      });

      expect(hits).toEqual([
        { chunkId: 'c-7', score: 0.75 },
        { chunkId: 'c-3', score: 0.5 },
      ]);
      const search = only('Search').request;
      expect(search).toMatchObject({
        db_name: tenantDatabase,
        collection_name: 'library_chunks',
        nq: '1',
        dsl:
          'current == true and classification in ["internal"] and license == "MIT" and ' +
          'array_contains_all(tags, ["hr"])',
        dsl_type: 'BoolExprV1',
        consistency_level: 'Strong',
        use_default_consistency: false,
        output_fields: ['chunk_id'],
      });
      expect(decodeSearchVectors(search.placeholder_group)).toEqual([[0.25, 0.5, -1, 2]]);
      expect(keyValues(search, 'search_params')).toMatchObject({
        anns_field: 'embedding',
        metric_type: 'COSINE',
        topk: '50',
        params: '{"ef":50}',
      });
    });

    it('searches with ef of at least 40, as pgvector does', async () => {
      await openIndex().search(new Float32Array(DIMENSIONS).fill(1), {
        limit: 5,
        filters: {},
        readable: INTERNAL,
      });
      expect(keyValues(only('Search').request, 'search_params')).toMatchObject({
        topk: '5',
        params: '{"ef":40}',
      });
    });

    it('names the visible versions instead of current ones, and sends nothing for none', async () => {
      const index = openIndex();
      await index.search(new Float32Array(DIMENSIONS).fill(1), {
        limit: 5,
        filters: {},
        readable: INTERNAL,
        visibleVersions: [
          { documentId: 'd-1', version: 1 },
          { documentId: 'd-2', version: 4 },
        ],
      });
      expect(only('Search').request.dsl).toBe(
        'document_version in ["d-1:1", "d-2:4"] and classification in ["internal"]',
      );

      double.calls.length = 0;
      const none = await index.search(new Float32Array(DIMENSIONS).fill(1), {
        limit: 5,
        filters: {},
        readable: INTERNAL,
        visibleVersions: [],
      });
      expect(none).toEqual([]);
      expect(methodsCalled()).toEqual([]);
    });

    it("applies the reader's access inside the search, and asks nothing of a reader who may read nothing", async () => {
      const index = openIndex();
      await index.search(new Float32Array(DIMENSIONS).fill(1), {
        limit: 5,
        filters: {},
        readable: {
          classifications: ['public'],
          ownerId: 'user:u-1',
          ownClassifications: ['confidential'],
        },
      });
      expect(only('Search').request.dsl).toBe(
        'current == true and (classification in ["public"] or ' +
          '(owner_id == "user:u-1" and classification in ["confidential"]))',
      );

      double.calls.length = 0;
      const none = await index.search(new Float32Array(DIMENSIONS).fill(1), {
        limit: 5,
        filters: {},
        readable: { classifications: [], ownerId: undefined, ownClassifications: ['restricted'] },
      });
      expect(none).toEqual([]);
      expect(methodsCalled()).toEqual([]);
    });

    it('puts a hostile tag, licence or source on the wire as one literal each', async () => {
      const tag = 'x"]) or current == false or array_contains_all(tags, ["\\';
      const license = 'MIT" || license != "';
      const source = 'line\nbreak "quoted" \\ end\\';
      await openIndex().search(new Float32Array(DIMENSIONS).fill(1), {
        limit: 5,
        filters: { license, source, tags: [tag, 'plain'] },
        readable: INTERNAL,
      });

      const expression = String(only('Search').request.dsl);
      expect(lexMilvusExpression(expression)).toEqual({
        skeleton:
          'current == true and classification in [$] and license == $ and source == $ and ' +
          'array_contains_all(tags, [$, $])',
        literals: ['internal', license, source, tag, 'plain'],
      });
    });

    it('refuses a bad limit or a query of the wrong length before calling Milvus', async () => {
      const index = openIndex();
      const vector = new Float32Array(DIMENSIONS);
      for (const limit of [0, 1.5, 16_385]) {
        expect(
          (await rejection(index.search(vector, { limit, filters: {}, readable: INTERNAL }))).code,
        ).toBe('invalid-argument');
      }
      const short = new Float32Array(DIMENSIONS - 1);
      expect(
        (await rejection(index.search(short, { limit: 5, filters: {}, readable: INTERNAL }))).code,
      ).toBe('invalid-argument');
      expect(methodsCalled()).toEqual([]);
    });
  });

  describe('setCurrentVersion', () => {
    it('rewrites the new version to current, then the others to not current, whole rows', async () => {
      const index = openIndex();
      await index.ensureCollection();
      double.calls.length = 0;
      double.answer(
        'Query',
        rowsReply([chunk({ chunkId: 'c-new', version: 2, current: false })]),
        rowsReply([chunk({ chunkId: 'c-old', version: 1, current: true })]),
      );

      await index.setCurrentVersion('d-1', 2);

      expect(methodsCalled()).toEqual(['Query', 'DescribeCollection', 'Upsert', 'Query', 'Upsert']);
      const [makeCurrent, retire] = double.callsTo('Query').map((call) => call.request);
      expect(makeCurrent).toMatchObject({
        db_name: tenantDatabase,
        expr: 'document_id == "d-1" and version == 2 and current == false',
        consistency_level: 'Strong',
        output_fields: [
          'chunk_id',
          'document_id',
          'version',
          'document_version',
          'license',
          'source',
          'tags',
          'classification',
          'owner_id',
          'ingested_at',
          'current',
          'embedding',
        ],
      });
      expect(keyValues(makeCurrent ?? {}, 'query_params')).toEqual({ limit: '1000' });
      expect(retire?.expr).toBe('document_id == "d-1" and version != 2 and current == true');

      const [made, retired] = double.callsTo('Upsert').map((call) => rowsOf(call.request));
      expect(made).toEqual([
        expect.objectContaining({
          chunk_id: 'c-new',
          version: 2,
          current: true,
          tags: ['policy', 'hr'],
        }),
      ]);
      expect(retired).toEqual([
        {
          chunk_id: 'c-old',
          document_id: 'd-1',
          version: 1,
          document_version: 'd-1:1',
          license: 'Apache-2.0',
          source: 'https://example.com/handbook',
          tags: ['policy', 'hr'],
          classification: 'internal',
          owner_id: 'user:u-1',
          ingested_at: String(Date.parse('2026-03-01T10:00:00.000Z')),
          current: false,
          embedding: [0.5, -0.25, 0, 1],
        },
      ]);
    });

    it('withdraws every version when given none, and writes nothing when nothing matches', async () => {
      const index = openIndex();
      await index.ensureCollection();
      double.calls.length = 0;

      await index.setCurrentVersion('d-1', undefined);

      expect(methodsCalled()).toEqual(['Query']);
      expect(only('Query').request.expr).toBe('document_id == "d-1" and current == true');
    });
  });

  describe('setDocumentAccess', () => {
    it("rewrites the rows of the document's that still have the old classification or owner", async () => {
      const index = openIndex();
      await index.ensureCollection();
      double.calls.length = 0;

      double.answer('Query', rowsReply([chunk({ chunkId: 'c-1' }), chunk({ chunkId: 'c-2' })]));

      await index.setDocumentAccess('d-1', { classification: 'restricted', ownerId: undefined });

      expect(only('Query').request.expr).toBe(
        'document_id == "d-1" and (classification != "restricted" or owner_id != "")',
      );
      expect(rowsOf(only('Upsert').request)).toEqual([
        expect.objectContaining({ chunk_id: 'c-1', classification: 'restricted', owner_id: '' }),
        expect.objectContaining({ chunk_id: 'c-2', classification: 'restricted', owner_id: '' }),
      ]);
    });
  });

  describe('errors', () => {
    it('turns a non-success status into a typed error with Milvus code and reason', async () => {
      const index = openIndex();
      await index.ensureCollection();
      double.answer('Search', {
        status: {
          error_code: 'UnexpectedError',
          code: 1100,
          reason: 'failed to create query plan',
        },
      });

      const error = await rejection(
        index.search(new Float32Array(DIMENSIONS), { limit: 5, filters: {}, readable: INTERNAL }),
      );

      expect(error).toMatchObject({
        name: 'MilvusVectorIndexError',
        code: 'milvus-rejected',
        operation: 'Search',
        milvusCode: 'UnexpectedError/1100',
      });
      expect(error.message).toContain('failed to create query plan');
    });

    it('reports a refused collection creation (the SDK throws the status itself)', async () => {
      double.answer('CreateCollection', {
        error_code: 'UnexpectedError',
        code: 800,
        reason: 'database not found[database=citadel_abc123_acme]',
      });
      const error = await rejection(openIndex().ensureCollection());
      expect(error).toMatchObject({ code: 'milvus-rejected', operation: 'CreateCollection' });
      expect(error.message).toContain('database not found');
    });

    it('takes a collection another replica created meanwhile, if it has the same dimensions', async () => {
      const notFound = {
        status: { error_code: 'CollectionNotExists', code: 100, reason: 'collection not found' },
      };
      const createdByAnother = (dim: string) => ({
        status: OK_STATUS,
        schema: {
          name: 'library_chunks',
          fields: [
            {
              name: 'embedding',
              data_type: 'FloatVector',
              type_params: [{ key: 'dim', value: dim }],
            },
          ],
        },
      });
      const exists = {
        error_code: 'UnexpectedError',
        code: 1,
        reason: 'collection already exists',
      };
      double.answer('DescribeCollection', notFound, createdByAnother('4'));
      double.answer('CreateCollection', exists);
      await openIndex().ensureCollection();
      expect(double.callsTo('LoadCollection')).toHaveLength(1);

      double.answer('DescribeCollection', notFound, createdByAnother('8'));
      double.answer('CreateCollection', exists);
      expect((await rejection(openIndex().ensureCollection())).code).toBe('schema-mismatch');
    });

    it('gives up waiting for a collection that does not load', async () => {
      double.answer('GetLoadState', { status: OK_STATUS, state: 'LoadStateLoading' });
      const error = await rejection(openIndex({ loadTimeoutMs: 0 }).ensureCollection());
      expect(error).toMatchObject({ code: 'milvus-unavailable', operation: 'GetLoadState' });
    });

    it('reports a failed delete and a failed load', async () => {
      const index = openIndex();
      await index.ensureCollection();
      double.answer('Delete', {
        status: { error_code: 'UnexpectedError', code: 65535, reason: 'delete failed' },
      });
      expect(await rejection(index.deleteDocument('d-1'))).toMatchObject({
        code: 'milvus-rejected',
        operation: 'Delete',
      });

      double.answer('LoadCollection', {
        error_code: 'InsufficientMemoryToLoad',
        code: 1,
        reason: 'out of memory',
      });
      expect(await rejection(openIndex().ensureCollection())).toMatchObject({
        code: 'milvus-rejected',
        operation: 'LoadCollection',
      });
    });

    it('reports an unreachable Milvus as milvus-unavailable', async () => {
      const gone = await startMilvusProtocolDouble();
      const goneClient = connect('default', gone.address);
      const index = openIndex({ client: goneClient, timeoutMs: 500 });
      await index.ensureCollection();
      await gone.close();

      const error = await rejection(
        index.search(new Float32Array(DIMENSIONS), { limit: 5, filters: {}, readable: INTERNAL }),
      );
      await goneClient.closeConnection();

      // The SDK describes the collection before searching, unless it has it cached.
      expect(['DescribeCollection', 'Search']).toContain(error.operation);
      expect(error.code).toBe('milvus-unavailable');
      expect(error.cause).toMatchObject({ code: 14 }); // UNAVAILABLE
    });
  });

  describe('tenants', () => {
    it('names its tenant database on every request, whatever the client defaults to', async () => {
      const shared = connect();
      const acme = openIndex({ client: shared });
      const globex = createMilvusVectorIndex({
        client: shared,
        database: 'citadel_abc123_globex',
        dimensions: DIMENSIONS,
      });

      await acme.upsert([chunk()]);
      await globex.search(new Float32Array(DIMENSIONS), {
        limit: 5,
        filters: {},
        readable: INTERNAL,
      });
      await acme.deleteDocument('d-1');

      const databases = indexCalls().map((call) => [call.method, call.request.db_name]);
      expect(databases).toContainEqual(['Upsert', tenantDatabase]);
      expect(databases).toContainEqual(['Delete', tenantDatabase]);
      expect(databases).toContainEqual(['Search', 'citadel_abc123_globex']);
      expect(databases.every(([, database]) => database !== '' && database !== 'default')).toBe(
        true,
      );
      expect([...double.collections.keys()].sort()).toEqual([
        'citadel_abc123_globex/library_chunks',
        `${tenantDatabase}/library_chunks`,
      ]);
      await shared.closeConnection();
    });
  });
});
