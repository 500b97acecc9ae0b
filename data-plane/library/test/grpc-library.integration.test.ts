import * as grpc from '@grpc/grpc-js';
import { loadSync, type ServiceDefinition } from '@grpc/proto-loader';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDataPlaneHost,
  createJsonLineLogger,
  createTokenAuthenticator,
  type DataPlaneHost,
  type DataPlaneServiceFactory,
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
import { createLibraryGrpcService } from '../src/grpc/library-grpc-service.ts';
import {
  LIBRARY_GRPC_SERVICE_NAME,
  LIBRARY_PROTO_LOADER_OPTIONS,
  LIBRARY_PROTO_PATH,
} from '../src/grpc/library-grpc-definition.ts';
import type {
  LibraryEventMessage,
  RetrieveRequestMessage,
  RetrieveResponseMessage,
  StreamEventsRequestMessage,
} from '../src/grpc/library-grpc-messages.ts';
import { createLibraryServiceFactory } from '../src/library-service.ts';
import { createLibrary, type Library } from '../src/library.ts';

const TENANT_ID = 'b1c5f0d6-3c1e-4c36-9d55-0000000000d1';
const OTHER_TENANT_ID = 'b1c5f0d6-3c1e-4c36-9d55-0000000000d2';
const PROBLEMS = 'https://citadel.azora.dev/problems/';

/**
 * The library service with its gRPC API, wired as `createLibraryServiceFactory` wires it:
 * REST from the service, gRPC and the outbox relay from `createLibraryGrpcService`, started
 * once the library is open.
 */
function libraryWithGrpc(): DataPlaneServiceFactory {
  const rest = createLibraryServiceFactory({ workerIntervalMs: 0 });
  return (context) => {
    const http = rest(context);
    let library: Promise<Library> | undefined;
    const open = () =>
      (library ??= createLibrary({
        pool: context.pool,
        logger: context.logger,
        tenantId: context.tenant.id,
        workerIntervalMs: 0,
      }).then(async (opened) => {
        await events.start();
        return opened;
      }));
    const events = createLibraryGrpcService(context, open);
    return {
      name: 'library',
      handle: (request, response, subpath, requestContext) =>
        http.handle(request, response, subpath, requestContext),
      grpc: events.grpc,
      async close() {
        await events.close();
        await http.close?.();
        if (library) await (await library).close();
      },
    };
  };
}

/** A client generated from the same .proto, as another data-plane service would make it. */
const definition = loadSync(LIBRARY_PROTO_PATH, LIBRARY_PROTO_LOADER_OPTIONS)[
  LIBRARY_GRPC_SERVICE_NAME
] as ServiceDefinition;
const LibraryClient = grpc.makeGenericClientConstructor(definition, 'Library');

interface CallResult<T> {
  response?: T;
  error?: grpc.ServiceError;
}

let issuer: TestTokenIssuer;
let database: TestTenantDatabase;
let host: DataPlaneHost;
let hostClosed = false;
let base: string;
let grpcPort: number;
let client: grpc.Client;
let token: string;

/** The call's metadata: `authorization: Bearer …`, or none for `null`. */
function metadataWith(bearer: string | null): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (bearer !== null) metadata.set('authorization', `Bearer ${bearer}`);
  return metadata;
}

function retrieve(
  request: RetrieveRequestMessage,
  bearer: string | null = token,
): Promise<CallResult<RetrieveResponseMessage>> {
  const method = definition.Retrieve;
  if (!method) throw new Error('Retrieve is not in the contract');
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      (bytes: Buffer) => method.responseDeserialize(bytes) as RetrieveResponseMessage,
      request,
      metadataWith(bearer),
      {},
      (error, response) => resolve(error ? { error } : { response }),
    );
  });
}

function streamEvents(
  request: StreamEventsRequestMessage,
  bearer: string | null = token,
): grpc.ClientReadableStream<LibraryEventMessage> {
  const method = definition.StreamEvents;
  if (!method) throw new Error('StreamEvents is not in the contract');
  return client.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    (bytes: Buffer) => method.responseDeserialize(bytes) as LibraryEventMessage,
    request,
    metadataWith(bearer),
    {},
  );
}

/** The response of a call that must succeed. */
async function retrieved(request: RetrieveRequestMessage): Promise<RetrieveResponseMessage> {
  const { response, error } = await retrieve(request);
  if (!response) throw error ?? new Error('Retrieve answered nothing');
  return response;
}

/** Reads a stream until `until` holds, then cancels it. */
function readEvents(
  stream: grpc.ClientReadableStream<LibraryEventMessage>,
  until: (received: LibraryEventMessage[]) => boolean,
): Promise<LibraryEventMessage[]> {
  const received: LibraryEventMessage[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`timed out after ${received.length} events`));
    }, 15_000);
    stream.on('data', (event: LibraryEventMessage) => {
      received.push(event);
      if (until(received)) {
        clearTimeout(timer);
        stream.cancel();
        resolve(received);
      }
    });
    stream.on('error', (error: grpc.ServiceError) => {
      clearTimeout(timer);
      if (error.code === grpc.status.CANCELLED) resolve(received);
      else reject(error);
    });
  });
}

/** The status a stream ends with. */
function streamStatus(stream: grpc.ClientReadableStream<LibraryEventMessage>) {
  return new Promise<grpc.ServiceError>((resolve) => {
    stream.on('data', () => undefined);
    stream.on('error', resolve);
  });
}

async function ingest(body: Record<string, unknown>): Promise<{ id: string; version: number }> {
  const response = await fetch(`${base}/library/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mediaType: 'text/markdown', license: 'CC-BY-4.0', ...body }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; version: number };
}

function problemTypeOf(error: grpc.ServiceError | undefined): unknown {
  return error?.metadata.get('citadel-problem-type')[0];
}

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  database = await createTestTenantDatabase();
  host = createDataPlaneHost({
    tenantSlug: 'umbrella',
    tenantId: TENANT_ID,
    databaseUrl: database.url,
    services: ['library'],
    logger: createJsonLineLogger({ write: () => true }),
    authenticator: createTokenAuthenticator({
      tenantId: TENANT_ID,
      issuer: issuer.issuer,
      jwksUrl: issuer.jwksUrl,
    }),
    serviceFactories: { library: libraryWithGrpc() },
  });
  base = `http://127.0.0.1:${await host.listen(0)}`;
  grpcPort = await host.listenGrpc(0);
  client = new LibraryClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  token = await issuer.sign(userClaims(TENANT_ID, 'library', 'alice'));
}, 120_000);

afterAll(async () => {
  client.close();
  if (!hostClosed) await host.close();
  await issuer.close();
  await database.drop();
});

describe('the host serving gRPC', () => {
  it('reports its gRPC port and services in /healthz', async () => {
    const health = (await (await fetch(`${base}/healthz`)).json()) as Record<string, unknown>;
    expect(health.grpc).toEqual({ port: grpcPort, services: [LIBRARY_GRPC_SERVICE_NAME] });
  });
});

describe('Retrieve', () => {
  let handbook: { id: string; version: number };

  beforeAll(async () => {
    handbook = await ingest({
      title: 'Travel handbook',
      content:
        '# Travel handbook\n\n## Per diem\n\nThe quokka allowance is 60 euros per day abroad.\n',
      source: 'https://intranet.example.com/travel',
      tags: ['finance'],
    });
    await ingest({
      title: 'Canteen',
      content: '# Canteen\n\nThe quokka salad is served on Fridays.\n',
      source: 'https://intranet.example.com/canteen',
      license: 'MIT',
    });
  });

  it('finds an ingested document, with its citation', async () => {
    const { response, error } = await retrieve({ query: 'quokka allowance', limit: 5 });
    expect(error).toBeUndefined();
    const hit = response?.hits.find((found) => found.documentId === handbook.id);
    expect(hit?.text).toContain('quokka allowance');
    expect(hit?.score).toBeGreaterThan(0);
    expect(hit?.citation).toMatchObject({
      documentId: handbook.id,
      version: 1,
      title: 'Travel handbook',
      headingPath: ['Travel handbook', 'Per diem'],
    });
    expect(hit?.citation.end).toBeGreaterThan(hit?.citation.start ?? Number.MAX_SAFE_INTEGER);
  });

  it('pages with next_cursor, and filters by licence, tags and ingestion time', async () => {
    const first = await retrieved({ query: 'quokka', limit: 1 });
    expect(first.hits).toHaveLength(1);
    expect(first.nextCursor).not.toBe('');
    const second = await retrieved({ query: 'quokka', limit: 1, cursor: first.nextCursor });
    expect(second.hits.map((hit) => hit.chunkId)).not.toEqual(first.hits.map((hit) => hit.chunkId));

    const mit = await retrieved({ query: 'quokka', filters: { license: 'MIT' } });
    expect(mit.hits.length).toBeGreaterThan(0);
    expect(mit.hits.map((hit) => hit.documentId)).not.toContain(handbook.id);
    const tagged = await retrieved({ query: 'quokka', filters: { tags: ['finance'] } });
    expect(new Set(tagged.hits.map((hit) => hit.documentId))).toEqual(new Set([handbook.id]));

    const tomorrow = Math.floor(Date.now() / 1000) + 86_400;
    const future = await retrieved({
      query: 'quokka',
      filters: { ingestedAfter: { seconds: String(tomorrow), nanos: 0 } },
    });
    expect(future.hits).toEqual([]);
    const past = await retrieved({
      query: 'quokka',
      filters: { ingestedBeforeRfc3339: new Date(tomorrow * 1000).toISOString() },
    });
    expect(past.hits.length).toBeGreaterThan(0);
  });

  it('answers UNAUTHENTICATED without a token, with an invalid one, or for another service', async () => {
    const otherService = await issuer.sign(userClaims(TENANT_ID, 'orchestrator', 'alice'));
    for (const bearer of [null, 'not-a-token', otherService]) {
      const { error } = await retrieve({ query: 'quokka' }, bearer);
      expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(problemTypeOf(error)).toBe(`${PROBLEMS}unauthorized`);
    }
  });

  it("refuses another tenant's token: tokens are bound to their tenant", async () => {
    const foreign = await issuer.sign(userClaims(OTHER_TENANT_ID, 'library', 'mallory'));
    const { error } = await retrieve({ query: 'quokka' }, foreign);
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error?.details).toBe('The token is for another tenant.');
  });

  it('answers INVALID_ARGUMENT for bad input, NOT_FOUND for an unknown snapshot', async () => {
    const cases: RetrieveRequestMessage[] = [
      { query: '' },
      { query: 'x'.repeat(1_001) },
      { query: 'quokka', limit: 500 },
      { query: 'quokka', cursor: 'bm90IGEgY3Vyc29y' },
      { query: 'quokka', filters: { ingestedAfterRfc3339: '2026-02-30T00:00:00Z' } },
      { query: 'quokka', filters: { ingestedBefore: { seconds: '999999999999', nanos: 0 } } },
      { query: 'quokka', snapshot: 'Not A Name' },
    ];
    for (const request of cases) {
      const { error } = await retrieve(request);
      expect(error?.code, JSON.stringify(request)).toBe(grpc.status.INVALID_ARGUMENT);
      expect(problemTypeOf(error)).toBe(`${PROBLEMS}validation-error`);
      const problem = JSON.parse(String(error?.metadata.get('citadel-problem-bin')[0])) as Record<
        string,
        unknown
      >;
      expect(problem).toMatchObject({ status: 400, type: `${PROBLEMS}validation-error` });
    }
    const { error } = await retrieve({ query: 'quokka', snapshot: 'no-such-snapshot' });
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
  });
});

describe('StreamEvents', () => {
  async function latestEventId(): Promise<string> {
    const reader = new pg.Client({ connectionString: database.url });
    await reader.connect();
    try {
      const { rows } = await reader.query<{ id: string }>(
        'SELECT coalesce(max(id), 0)::text AS id FROM library.outbox',
      );
      return rows[0]?.id ?? '0';
    } finally {
      await reader.end();
    }
  }

  it('delivers DocumentIngested and DocumentIndexed for an ingest, as it commits', async () => {
    const after = await latestEventId();
    const stream = streamEvents({ afterEventId: after });
    let documentId = '';
    const reading = readEvents(
      stream,
      (all) => all.filter((event) => event.documentId === documentId).length === 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    documentId = (
      await ingest({
        title: 'Streamed',
        content: '# Streamed\n\nAn okapi walks in.\n',
        source: 'https://intranet.example.com/streamed',
      })
    ).id;
    const events = (await reading).filter((event) => event.documentId === documentId);
    expect(events.map((event) => event.type)).toEqual(['DocumentIngested', 'DocumentIndexed']);
    const [ingested, indexed] = events as [LibraryEventMessage, LibraryEventMessage];
    expect(ingested).toMatchObject({ version: 1, tenantId: TENANT_ID });
    expect(ingested.chunks).toBeGreaterThan(0);
    expect(BigInt(ingested.eventId)).toBeGreaterThan(BigInt(after));
    expect(BigInt(indexed.eventId)).toBeGreaterThan(BigInt(ingested.eventId));
    expect(Number(ingested.occurredAt.seconds)).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(JSON.parse(ingested.payloadJson)).toMatchObject({ documentId, version: 1 });
  });

  it('resumes after a given event id without loss or reordering', async () => {
    const after = await latestEventId();
    const ids: string[] = [];
    for (const title of ['One', 'Two', 'Three']) {
      ids.push(
        (
          await ingest({
            title,
            content: `# ${title}\n\nA numbat named ${title}.\n`,
            source: `https://intranet.example.com/${title}`,
          })
        ).id,
      );
    }
    const all = await readEvents(streamEvents({ afterEventId: after }), (received) =>
      received.some((event) => event.documentId === ids[2] && event.type === 'DocumentIndexed'),
    );
    expect(all.map((event) => event.documentId)).toEqual(ids.flatMap((id) => [id, id]));
    // Killed after its third event, the consumer resumes from the last id it processed.
    const firstPart = all.slice(0, 3);
    const resumed = await readEvents(
      streamEvents({ afterEventId: firstPart.at(-1)?.eventId ?? '0' }),
      (received) => received.length === all.length - 3,
    );
    expect([...firstPart, ...resumed].map((event) => event.eventId)).toEqual(
      all.map((event) => event.eventId),
    );
    const indexedOnly = await readEvents(
      streamEvents({ afterEventId: after, types: ['DocumentIndexed'] }),
      (received) => received.length === 3,
    );
    expect(indexedOnly.map((event) => [event.type, event.documentId])).toEqual(
      ids.map((id) => ['DocumentIndexed', id]),
    );
  });

  it('never shows the events of a rolled-back transaction', async () => {
    const after = await latestEventId();
    const stream = streamEvents({ afterEventId: after });
    // Until the two events of the ingestion below (they may arrive before its id is known).
    const reading = readEvents(
      stream,
      (all) => all.filter((event) => event.documentId !== 'rolled-back').length === 2,
    );
    const writer = new pg.Client({ connectionString: database.url });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO library.outbox (event_type, payload) VALUES ('DocumentIngested', $1)`,
        [JSON.stringify({ documentId: 'rolled-back', version: 1, chunks: 1 })],
      );
      await writer.query('ROLLBACK');
    } finally {
      await writer.end();
    }
    const marker = (
      await ingest({
        title: 'After the rollback',
        content: '# After\n\nA quoll.\n',
        source: 'https://intranet.example.com/after',
      })
    ).id;
    const events = await reading;
    expect(events.map((event) => event.documentId)).not.toContain('rolled-back');
    expect(events.map((event) => event.documentId)).toEqual([marker, marker]);
  });

  it('answers UNAUTHENTICATED without a valid token of this tenant', async () => {
    expect((await streamStatus(streamEvents({}, null))).code).toBe(grpc.status.UNAUTHENTICATED);
    const foreign = await issuer.sign(userClaims(OTHER_TENANT_ID, 'library', 'mallory'));
    expect((await streamStatus(streamEvents({}, foreign))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('ends open streams with UNAVAILABLE when the host shuts down', async () => {
    const stream = streamEvents({ afterEventId: await latestEventId() });
    const status = streamStatus(stream);
    await new Promise((resolve) => setTimeout(resolve, 300));
    hostClosed = true;
    await host.close();
    const ended = await status;
    expect(ended.code).toBe(grpc.status.UNAVAILABLE);
  });
});
