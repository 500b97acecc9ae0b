import { setTimeout as sleep } from 'node:timers/promises';
import type { DescribeCollectionResponse, MilvusClient } from '@zilliz/milvus2-sdk-node';
import { callMilvus, isCollectionNotFound } from './milvus-call.ts';
import {
  CHUNK_FIELD,
  CHUNK_VECTOR_INDEX,
  chunkCollectionFields,
} from './milvus-chunk-collection.ts';
import { MilvusVectorIndexError } from './milvus-vector-index-error.ts';

export interface ChunkCollectionSetup {
  client: Pick<
    MilvusClient,
    | 'describeCollection'
    | 'createCollection'
    | 'createIndex'
    | 'loadCollectionAsync'
    | 'getLoadState'
  >;
  /** The collection, its database, and each call's deadline. */
  target: { collection_name: string; db_name: string; timeout: number };
  dimensions: number;
  /** How long to wait for the collection to load. */
  loadTimeoutMs: number;
}

const LOAD_POLL_MS = 200;

/** The embedding's dimension as `describeCollection` reports it (`type_params` `dim`). */
function embeddingDimensionOf(description: DescribeCollectionResponse): number | undefined {
  const field = description.schema.fields.find(({ name }) => name === CHUNK_FIELD.embedding);
  const dim = field?.type_params.find(({ key }) => key === 'dim')?.value;
  return dim === undefined ? undefined : Number(dim);
}

/** The collection as Milvus describes it; undefined when it does not exist. */
async function describe({
  client,
  target,
}: ChunkCollectionSetup): Promise<DescribeCollectionResponse | undefined> {
  const reply = await callMilvus(
    'DescribeCollection',
    () => client.describeCollection({ ...target, cache: false }),
    isCollectionNotFound,
  );
  return isCollectionNotFound(reply.status) ? undefined : reply;
}

function checkSchema(setup: ChunkCollectionSetup, description: DescribeCollectionResponse): void {
  const found = embeddingDimensionOf(description);
  if (found !== setup.dimensions) {
    throw new MilvusVectorIndexError({
      code: 'schema-mismatch',
      operation: 'DescribeCollection',
      message: `Collection ${setup.target.collection_name} holds ${String(found ?? 'no')}-dimensional embeddings; the library embeds in ${setup.dimensions}.`,
    });
  }
}

async function createCollection(setup: ChunkCollectionSetup): Promise<void> {
  try {
    await callMilvus('CreateCollection', () =>
      setup.client.createCollection({
        ...setup.target,
        description: "The library's chunk embeddings and what search filters on",
        fields: chunkCollectionFields(setup.dimensions),
        enable_dynamic_field: false,
        // The default of every read that names no level (the index names Strong anyway).
        consistency_level: 'Strong',
      }),
    );
  } catch (error) {
    // Another replica of the library created it meanwhile: theirs will do if it is the same.
    const created = await describe(setup);
    if (created === undefined) throw error;
    checkSchema(setup, created);
  }
}

async function waitUntilLoaded({ client, target, loadTimeoutMs }: ChunkCollectionSetup) {
  const deadline = Date.now() + loadTimeoutMs;
  for (;;) {
    const reply = await callMilvus('GetLoadState', () => client.getLoadState(target));
    const state: string = reply.state;
    if (state === 'LoadStateLoaded') return;
    if (Date.now() >= deadline) {
      throw new MilvusVectorIndexError({
        code: 'milvus-unavailable',
        operation: 'GetLoadState',
        message: `Collection ${target.collection_name} is still ${state} after ${loadTimeoutMs} ms.`,
      });
    }
    await sleep(LOAD_POLL_MS);
  }
}

/**
 * Makes the chunk collection ready: created with its fields when missing (an existing one must
 * have the same dimensions), its HNSW index created, loaded, and waited for. Every step is
 * idempotent (Milvus answers Success for an index that exists with the same parameters, and for
 * loading a loaded collection), so a start interrupted half-way resumes where it stopped.
 */
export async function ensureChunkCollection(setup: ChunkCollectionSetup): Promise<void> {
  const { client, target } = setup;
  const description = await describe(setup);
  if (description === undefined) await createCollection(setup);
  else checkSchema(setup, description);
  await callMilvus('CreateIndex', () => client.createIndex({ ...target, ...CHUNK_VECTOR_INDEX }));
  await callMilvus('LoadCollection', () => client.loadCollectionAsync(target));
  await waitUntilLoaded(setup);
}
