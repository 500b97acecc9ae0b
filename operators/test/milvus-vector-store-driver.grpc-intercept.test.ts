/**
 * The Milvus driver, checked at the gRPC client boundary: no Milvus server can run here, so
 * the SDK's own client builds and sends every call, and a grpc-js interceptor — the last in
 * the SDK's chain, where a call would go onto the channel — records the method, request
 * and metadata and answers as Milvus's protocol does. What is proven: the requests the
 * driver makes through the real SDK, and how it reads replies; not that a Milvus server
 * accepts them.
 */
import {
  InterceptingCall,
  Metadata,
  status,
  type ChannelOptions,
  type Interceptor,
  type Requester,
} from '@grpc/grpc-js';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { defaultTenantSpec, findPlan } from '@citadel/contracts';
import { describe, expect, it } from 'vitest';
import { createMilvusVectorStoreDriver } from '../src/kubernetes/drivers/milvus-vector-store-driver.ts';
import { createJsonLinesLogger } from '../src/kubernetes/json-lines-logger.ts';

interface RecordedCall {
  /** `CreateDatabase`, `ListDatabases`… */
  method: string;
  request: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

const OK = { error_code: 'Success', reason: '', code: 0 };

/** A string field of a request, or '' when it has none. */
function field(request: Record<string, unknown>, key: string): string {
  const value = request[key];
  return typeof value === 'string' ? value : '';
}

/** A Milvus holding `databases` (name → collections), as far as these calls are concerned. */
function milvusReplies(databases: Map<string, string[]>) {
  return (method: string, request: Record<string, unknown>): unknown => {
    const name = field(request, 'db_name');
    switch (method) {
      case 'ListDatabases':
        return {
          status: OK,
          db_names: ['default', ...databases.keys()],
          db_ids: [],
          created_timestamp: [],
        };
      case 'CreateDatabase':
        if (databases.has(name))
          return { error_code: 'UnexpectedError', reason: 'database already exist', code: 65535 };
        databases.set(name, []);
        return OK;
      case 'ShowCollections': {
        const collections = databases.get(name) ?? [];
        return {
          status: OK,
          collection_names: collections,
          collection_ids: collections.map((_, index) => String(index + 1)),
          created_timestamps: collections.map(() => '0'),
          created_utc_timestamps: collections.map(() => '0'),
          inMemory_percentages: collections.map(() => 0),
          query_service_available: collections.map(() => true),
        };
      }
      case 'DropCollection':
        databases.set(
          name,
          (databases.get(name) ?? []).filter((c) => c !== request.collection_name),
        );
        return OK;
      case 'DropDatabase':
        if ((databases.get(name) ?? []).length > 0) {
          return { error_code: 'UnexpectedError', reason: 'database is not empty', code: 65535 };
        }
        databases.delete(name);
        return OK;
      default:
        throw new Error(`unexpected Milvus call ${method}`);
    }
  };
}

/** An interceptor that records each unary call and answers it without touching the network. */
function answeringInterceptor(
  calls: RecordedCall[],
  reply: (method: string, request: Record<string, unknown>) => unknown,
): Interceptor {
  return (options, nextCall) => {
    const method = options.method_definition.path.split('/').pop() ?? '';
    let listener: Parameters<NonNullable<Requester['start']>>[1] | undefined;
    let metadata: Record<string, unknown> = {};
    let request: Record<string, unknown> = {};
    return new InterceptingCall(nextCall(options), {
      start(outgoing, received) {
        listener = received;
        metadata = outgoing.getMap();
      },
      sendMessage(message: Record<string, unknown>) {
        request = message;
      },
      halfClose() {
        calls.push({ method, request, metadata });
        const response = reply(method, request);
        setImmediate(() => {
          listener?.onReceiveMetadata(new Metadata());
          listener?.onReceiveMessage(response);
          listener?.onReceiveStatus({ code: status.OK, details: 'OK', metadata: new Metadata() });
        });
      },
    });
  };
}

function interceptedClient(
  calls: RecordedCall[],
  reply: (method: string, request: Record<string, unknown>) => unknown,
): MilvusClient {
  const client = new MilvusClient({
    address: '127.0.0.1:1',
    token: 'root:Milvus',
    maxRetries: 0,
    logLevel: 'error',
    __SKIP_CONNECT__: true,
  });
  // The SDK builds its clients with this options object; its interceptors array is shared.
  const options = (
    client as unknown as { channelOptions: ChannelOptions & { interceptors: Interceptor[] } }
  ).channelOptions;
  options.interceptors.push(answeringInterceptor(calls, reply));
  return client;
}

const plan = findPlan('enterprise');
if (!plan) throw new Error('no enterprise plan');
const tenant = {
  uid: '7d1e0c55-0000-4000-8000-00000000a11a',
  slug: 'vector-co',
  spec: {
    ...defaultTenantSpec({
      slug: 'vector-co',
      displayName: 'Vector Co',
      plan,
      region: 'eu-west-1',
    }),
  },
};
tenant.spec.resources.vectorStore.engine = 'milvus';
const DATABASE = 'citadel_inst01_vector_co';

describe('the Milvus vector store driver, at the gRPC client boundary (no Milvus server)', () => {
  it('creates the tenant’s database once, named like its PostgreSQL database', async () => {
    const calls: RecordedCall[] = [];
    const databases = new Map<string, string[]>();
    const driver = createMilvusVectorStoreDriver({
      client: interceptedClient(calls, milvusReplies(databases)),
      instanceId: 'inst01',
      logger: createJsonLinesLogger('silent'),
    });

    expect(await driver.observe(tenant)).toEqual({ ready: false, engine: undefined });
    await driver.apply(tenant, { component: 'vectorStore', type: 'ensure' });
    expect(await driver.observe(tenant)).toEqual({ ready: true, engine: 'milvus' });
    await driver.apply(tenant, { component: 'vectorStore', type: 'ensure' });

    expect(calls.map((call) => call.method)).toEqual([
      'ListDatabases',
      'ListDatabases',
      'CreateDatabase',
      'ListDatabases',
      'ListDatabases',
    ]);
    const create = calls.find((call) => call.method === 'CreateDatabase');
    expect(create?.request).toMatchObject({ db_name: DATABASE });
    // The token travels as Milvus expects it: base64 in the authorization metadata.
    expect(create?.metadata.authorization).toBe(Buffer.from('root:Milvus').toString('base64'));
  });

  it('removes the database after dropping its collections, and does nothing when it is gone', async () => {
    const calls: RecordedCall[] = [];
    const databases = new Map([[DATABASE, ['documents', 'chunks']]]);
    const driver = createMilvusVectorStoreDriver({
      client: interceptedClient(calls, milvusReplies(databases)),
      instanceId: 'inst01',
      logger: createJsonLinesLogger('silent'),
    });

    await driver.apply(tenant, { component: 'vectorStore', type: 'remove' });
    expect(
      calls.map(
        (call) =>
          `${call.method} ${field(call.request, 'collection_name') || field(call.request, 'db_name')}`,
      ),
    ).toEqual([
      'ListDatabases ',
      `ShowCollections ${DATABASE}`,
      'DropCollection documents',
      'DropCollection chunks',
      `DropDatabase ${DATABASE}`,
    ]);
    expect(calls.find((call) => call.method === 'DropCollection')?.request).toMatchObject({
      db_name: DATABASE,
    });
    expect(databases.has(DATABASE)).toBe(false);

    calls.length = 0;
    await driver.apply(tenant, { component: 'vectorStore', type: 'remove' });
    expect(calls.map((call) => call.method)).toEqual(['ListDatabases']);
  });

  it('fails a step whose reply carries an error status', async () => {
    const calls: RecordedCall[] = [];
    const databases = new Map([[DATABASE, ['documents']]]);
    const milvus = milvusReplies(databases);
    // A Milvus that refuses to drop the collection (the database then stays, not empty).
    const client = interceptedClient(calls, (method, request) =>
      method === 'DropCollection'
        ? { error_code: 'UnexpectedError', reason: 'collection is being loaded', code: 1 }
        : milvus(method, request),
    );
    const driver = createMilvusVectorStoreDriver({
      client,
      instanceId: 'inst01',
      logger: createJsonLinesLogger('silent'),
    });
    await expect(
      driver.apply(tenant, { component: 'vectorStore', type: 'remove' }),
    ).rejects.toThrow(/Milvus DropCollection failed: UnexpectedError collection is being loaded/);
    expect(calls.map((call) => call.method)).not.toContain('DropDatabase');
  });
});
