/**
 * A Milvus protocol double: a real gRPC server on loopback serving
 * `milvus.proto.milvus.MilvusService` from the service definition shipped inside
 * `@zilliz/milvus2-sdk-node` (the one its own client is built from). A real `MilvusClient`
 * pointed at it encodes every request to protobuf bytes and sends them over HTTP/2; the double
 * decodes them with the same definition, records them, and answers minimal valid replies (or
 * scripted ones). It proves the requests on the wire and how replies are read; it does not prove
 * that a Milvus server accepts them, nor what Milvus would find.
 */
import { createRequire } from 'node:module';
import {
  Server,
  ServerCredentials,
  status as grpcStatus,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import { getGRPCService, LOADER_OPTIONS } from '@zilliz/milvus2-sdk-node';
import protobuf from 'protobufjs';

export interface RecordedMilvusCall {
  /** The RPC's name in the proto: `CreateCollection`, `Search`… */
  method: string;
  /** The request as the server decoded it (snake_case fields, int64 as strings, enums by name). */
  request: Record<string, unknown>;
  /** Request metadata (`dbname`, `authorization`…), the first value of each key. */
  metadata: Record<string, string>;
}

export interface MilvusProtocolDouble {
  /** `127.0.0.1:<port>`, for `new MilvusClient({ address })`. */
  readonly address: string;
  /** Every MilvusService call received, in order. */
  readonly calls: RecordedMilvusCall[];
  /** The calls to one RPC, in order. */
  callsTo(method: string): RecordedMilvusCall[];
  /** The next calls to `method` get these replies, in order; later ones get the default. */
  answer(method: string, ...replies: object[]): void;
  /** Collections created through the double: `<db>/<collection>` → the decoded schema. */
  readonly collections: Map<string, Record<string, unknown>>;
  /** Forgets calls, scripted replies and collections (a fresh Milvus, same address). */
  reset(): void;
  close(): Promise<void>;
}

export const OK_STATUS = { error_code: 'Success', reason: '', code: 0 };

/** The SDK's own protobuf description of Milvus's protocol (all packages, as JSON). */
const milvusProtoJson = createRequire(import.meta.url)(
  '@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus.js',
) as { default: protobuf.INamespace };
const protoRoot = protobuf.Root.fromJSON(milvusProtoJson.default);
const collectionSchemaType = protoRoot.lookupType('milvus.proto.schema.CollectionSchema');

/** CreateCollectionRequest carries its schema as encoded CollectionSchema bytes. */
export function decodeCollectionSchema(bytes: unknown): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) throw new Error('the request has no schema bytes');
  return collectionSchemaType.toObject(collectionSchemaType.decode(bytes), {
    longs: String,
    enums: String,
    defaults: true,
  });
}

const placeholderGroupType = protoRoot.lookupType('milvus.proto.common.PlaceholderGroup');

/** The query vectors of a SearchRequest (its `placeholder_group` bytes: little-endian float32). */
export function decodeSearchVectors(bytes: unknown): number[][] {
  if (!(bytes instanceof Uint8Array)) throw new Error('the request has no placeholder group');
  const group = placeholderGroupType.toObject(placeholderGroupType.decode(bytes), {
    enums: String,
  }) as { placeholders: Array<{ type: string; values: Uint8Array[] }> };
  return group.placeholders.flatMap(({ type, values }) => {
    if (type !== 'FloatVector') throw new Error(`placeholder of type ${type}`);
    return values.map((value) => {
      const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
      return Array.from({ length: value.byteLength / 4 }, (_, index) =>
        view.getFloat32(index * 4, true),
      );
    });
  });
}

interface ColumnMessage {
  field_name: string;
  scalars?: {
    string_data?: { data: string[] };
    int_data?: { data: number[] };
    long_data?: { data: string[] };
    bool_data?: { data: boolean[] };
    array_data?: { data: Array<{ string_data?: { data: string[] } }> };
  };
  vectors?: { dim: string; float_vector?: { data: number[] } };
}

const SCALAR_KEYS = ['string_data', 'int_data', 'long_data', 'bool_data'] as const;

function vectorRows(vectors: NonNullable<ColumnMessage['vectors']>): number[][] {
  const dim = Number(vectors.dim);
  const flat = vectors.float_vector?.data ?? [];
  return Array.from({ length: flat.length / dim }, (_, row) =>
    flat.slice(row * dim, (row + 1) * dim),
  );
}

function columnValues({ scalars = {}, vectors }: ColumnMessage): unknown[] {
  if (vectors) return vectorRows(vectors);
  if (scalars.array_data) return scalars.array_data.data.map((item) => item.string_data?.data);
  const key = SCALAR_KEYS.find((candidate) => scalars[candidate] !== undefined);
  return key === undefined ? [] : (scalars[key]?.data ?? []);
}

/** The rows of an Insert/Upsert request, rebuilt from its columns (int64 as strings). */
export function rowsOf(request: Record<string, unknown>): Array<Record<string, unknown>> {
  const columns = (request.fields_data ?? []) as ColumnMessage[];
  const rows: Array<Record<string, unknown>> = [];
  for (const column of columns) {
    columnValues(column).forEach((value, index) => {
      rows[index] = { ...rows[index], [column.field_name]: value };
    });
  }
  return rows;
}

const field = (request: Record<string, unknown>, key: string): string => {
  const value = request[key];
  return typeof value === 'string' ? value : '';
};

interface FieldDataMessage {
  field_name: string;
  scalars?: { string_data?: { data: string[] } };
}

/** The primary keys of an upsert (the `chunk_id` column). */
function upsertedKeys(request: Record<string, unknown>): string[] {
  const columns = (request.fields_data ?? []) as FieldDataMessage[];
  return (
    columns.find((column) => column.field_name === 'chunk_id')?.scalars?.string_data?.data ?? []
  );
}

type DefaultReply = (request: Record<string, unknown>, collectionKey: string) => object;

/** Milvus's answers where no reply is scripted: success, and what a fresh Milvus holds. */
function defaultReplies(collections: Map<string, Record<string, unknown>>) {
  const replies: Record<string, DefaultReply> = {
    Connect: () => ({
      status: OK_STATUS,
      server_info: { build_tags: 'protocol-double' },
      identifier: '1',
    }),
    HasCollection: (_, key) => ({ status: OK_STATUS, value: collections.has(key) }),
    CreateCollection: (request, key) => {
      collections.set(key, decodeCollectionSchema(request.schema));
      return OK_STATUS;
    },
    DescribeCollection: (request, key) => describeReply(collections.get(key), request),
    CreateIndex: () => OK_STATUS,
    LoadCollection: () => OK_STATUS,
    GetLoadState: () => ({ status: OK_STATUS, state: 'LoadStateLoaded' }),
    Upsert: (request) => upsertReply(upsertedKeys(request)),
    Delete: () => ({ status: OK_STATUS, delete_cnt: '0', timestamp: '1' }),
    Query: () => queryReply([]),
    Search: () => searchReply([]),
  };
  return (method: string, request: Record<string, unknown>, metadata: Record<string, string>) => {
    const database = field(request, 'db_name') || (metadata.dbname ?? 'default');
    return replies[method]?.(request, `${database}/${field(request, 'collection_name')}`);
  };
}

/** A MutationResult for an upsert of rows with these primary keys, all written. */
export function upsertReply(keys: readonly string[]): object {
  return {
    status: OK_STATUS,
    IDs: { str_id: { data: keys } },
    succ_index: keys.map((_, index) => index),
    err_index: [],
    upsert_cnt: String(keys.length),
    timestamp: '1',
  };
}

function describeReply(
  schema: Record<string, unknown> | undefined,
  request: Record<string, unknown>,
): object {
  if (!schema) {
    return {
      // What Milvus answers (merr ErrCollectionNotFound, with its legacy error code).
      status: {
        error_code: 'CollectionNotExists',
        code: 100,
        reason: `collection not found[database=${field(request, 'db_name')}][collection=${field(request, 'collection_name')}]`,
      },
    };
  }
  return {
    status: OK_STATUS,
    schema,
    collectionID: '1',
    collection_name: field(request, 'collection_name'),
    db_name: field(request, 'db_name'),
    consistency_level: 'Strong',
    properties: [],
    shards_num: 1,
  };
}

/** A QueryResults reply holding `columns` (FieldData messages). */
export function queryReply(columns: object[]): object {
  return {
    status: OK_STATUS,
    fields_data: columns,
    output_fields: columns.map((column) => (column as { field_name: string }).field_name),
  };
}

/** FieldData messages: one column of a query reply (or of a search's output fields). */
export function varCharColumn(name: string, values: readonly string[]): object {
  return { type: 'VarChar', field_name: name, scalars: { string_data: { data: values } } };
}
export function int32Column(name: string, values: readonly number[]): object {
  return { type: 'Int32', field_name: name, scalars: { int_data: { data: values } } };
}
export function int64Column(name: string, values: readonly number[]): object {
  return { type: 'Int64', field_name: name, scalars: { long_data: { data: values.map(String) } } };
}
export function boolColumn(name: string, values: readonly boolean[]): object {
  return { type: 'Bool', field_name: name, scalars: { bool_data: { data: values } } };
}
export function varCharArrayColumn(name: string, values: ReadonlyArray<readonly string[]>): object {
  return {
    type: 'Array',
    field_name: name,
    scalars: {
      array_data: {
        element_type: 'VarChar',
        data: values.map((items) => ({ string_data: { data: items } })),
      },
    },
  };
}
export function floatVectorColumn(name: string, vectors: ReadonlyArray<readonly number[]>): object {
  return {
    type: 'FloatVector',
    field_name: name,
    vectors: { dim: String(vectors[0]?.length ?? 0), float_vector: { data: vectors.flat() } },
  };
}

/**
 * A SearchResults reply for one query vector: these chunk ids with these scores, the ids both
 * in `ids` and as the `chunk_id` output field, as Milvus answers when the key is asked for.
 */
export function searchReply(hits: ReadonlyArray<{ id: string; score: number }>): object {
  const ids = hits.map((hit) => hit.id);
  return {
    status: OK_STATUS,
    results: {
      num_queries: '1',
      top_k: String(hits.length),
      fields_data: hits.length > 0 ? [varCharColumn('chunk_id', ids)] : [],
      scores: hits.map((hit) => hit.score),
      ids: { str_id: { data: ids } },
      topks: [String(hits.length)],
      output_fields: hits.length > 0 ? ['chunk_id'] : [],
      primary_field_name: 'chunk_id',
    },
    collection_name: 'library_chunks',
  };
}

function firstValues(call: ServerUnaryCall<unknown, unknown>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(call.metadata.getMap())) {
    metadata[key] = Buffer.isBuffer(value) ? value.toString('base64') : value;
  }
  return metadata;
}

/** Starts the double on a free loopback port. */
export async function startMilvusProtocolDouble(): Promise<MilvusProtocolDouble> {
  const service = getGRPCService(
    { serviceName: 'milvus.proto.milvus.MilvusService' },
    LOADER_OPTIONS,
  ).service;
  const calls: RecordedMilvusCall[] = [];
  const scripted = new Map<string, object[]>();
  const collections = new Map<string, Record<string, unknown>>();
  const replyByDefault = defaultReplies(collections);

  const handlerFor =
    (method: string) =>
    (call: ServerUnaryCall<Record<string, unknown>, object>, callback: sendUnaryData<object>) => {
      const request = call.request;
      const metadata = firstValues(call);
      calls.push({ method, request, metadata });
      const next = scripted.get(method)?.shift();
      const reply = next ?? replyByDefault(method, request, metadata);
      if (reply === undefined) {
        callback({
          code: grpcStatus.UNIMPLEMENTED,
          details: `the double does not serve ${method}`,
        });
        return;
      }
      callback(null, reply);
    };

  const handlers: Record<string, UntypedHandleCall> = {};
  for (const [method, definition] of Object.entries(service)) {
    if (!definition.requestStream && !definition.responseStream) {
      handlers[method] = handlerFor(method) as UntypedHandleCall;
    }
  }
  const server = new Server();
  server.addService(service, handlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });

  return {
    address: `127.0.0.1:${port}`,
    calls,
    callsTo: (method) => calls.filter((call) => call.method === method),
    answer(method, ...replies) {
      scripted.set(method, [...(scripted.get(method) ?? []), ...replies]);
    },
    collections,
    reset() {
      calls.length = 0;
      scripted.clear();
      collections.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
