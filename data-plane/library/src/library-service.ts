import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  readTenantDataCipher,
  sendJson,
  sendProblem,
  type DataPlaneRequestContext,
  type DataPlaneService,
  type DataPlaneServiceContext,
  type DataPlaneServiceFactory,
  type HostProblem,
  type RequestPrincipal,
} from '@citadel/data-plane-runtime';
import {
  createOpenAiCompatibleAnswerProvider,
  type AnswerProvider,
} from './answers/answer-provider.ts';
import { createLibraryGrpcService } from './grpc/library-grpc-service.ts';
import { createMilvusVectorIndex } from './vector/index.ts';
import { readDocumentUpload, uploadToIngestBody } from './http/document-upload.ts';
import { callerProblemOf, type IngestionOutcome } from './ingestion/ingestion-jobs.ts';
import { readIngestRequest } from './ingestion/ingest-request.ts';
import { LibraryRequestError, readJsonBody } from './http/library-requests.ts';
import { createLibrary, type Library, type LibraryOptions } from './library.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** An `Idempotency-Key`: 1–200 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** What the service reads from its host's environment beside what `LibraryOptions` takes. */
export type LibraryServiceOptions = Omit<
  LibraryOptions,
  'pool' | 'logger' | 'tenantId' | 'planId' | 'cipher'
>;

function idempotencyKeyOf(request: IncomingMessage): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw LibraryRequestError.invalid(
      'Idempotency-Key must be 1 to 200 visible ASCII characters.',
      [{ path: 'Idempotency-Key', message: 'must be 1 to 200 visible ASCII characters' }],
    );
  }
  return key;
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function decodeParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    throw LibraryRequestError.invalid('The path is not valid percent-encoding.');
  }
}

/** A document upload: multipart/form-data (a file and its fields), or the JSON body. */
async function readDocumentRequest(request: IncomingMessage) {
  const type = (headerOf(request, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'multipart/form-data') {
    return readIngestRequest(uploadToIngestBody(await readDocumentUpload(request)));
  }
  return readIngestRequest(await readJsonBody(request));
}

/** Answers an ingestion's outcome: 201/200 done, 202 accepted, or its problem. */
function sendOutcome(
  request: IncomingMessage,
  response: ServerResponse,
  outcome: IngestionOutcome,
): void {
  const replayed = outcome.kind !== 'accepted' && outcome.replayed;
  const headers: Record<string, string> = replayed ? { 'idempotent-replayed': 'true' } : {};
  if (outcome.kind === 'failed') {
    sendProblem(response, outcome.problem, headers);
    return;
  }
  if (outcome.kind === 'accepted') {
    response.setHeader('location', `${mountOf(request)}/v1/jobs/${outcome.job.id}`);
    sendJson(response, 202, {
      id: outcome.job.documentId,
      jobId: outcome.job.id,
      status: outcome.job.state,
    });
    return;
  }
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  sendJson(response, outcome.result.unchanged ? 200 : 201, outcome.result);
}

/**
 * A generated-answer provider when the host is configured with one
 * (`CITADEL_LIBRARY_ANSWERS_URL`, `…_MODEL`, `…_API_KEY`): any OpenAI-compatible chat
 * completions server. Without it, answers are extractive.
 */
function answersOf(context: DataPlaneServiceContext): { answers?: AnswerProvider } {
  const env = context.environment;
  const baseUrl = env.CITADEL_LIBRARY_ANSWERS_URL;
  const model = env.CITADEL_LIBRARY_ANSWERS_MODEL;
  if (!baseUrl || !model) return {};
  return {
    answers: createOpenAiCompatibleAnswerProvider({
      baseUrl,
      model,
      apiKey: env.CITADEL_LIBRARY_ANSWERS_API_KEY,
      onFallback: (reason) => {
        context.logger.warn({ reason }, 'answered extractively instead');
      },
    }),
  };
}

/**
 * The tenant's Milvus database when its vector engine is milvus (`CITADEL_VECTOR_ENGINE=milvus`,
 * `CITADEL_MILVUS_ADDRESS`, `…_DATABASE`, `…_TOKEN`); the SDK loads only then.
 */
function vectorIndexOf(context: DataPlaneServiceContext): Pick<LibraryOptions, 'vectorIndex'> {
  const env = context.environment;
  if (env.CITADEL_VECTOR_ENGINE !== 'milvus') return {};
  const address = env.CITADEL_MILVUS_ADDRESS;
  const database = env.CITADEL_MILVUS_DATABASE;
  if (!address || !database) {
    throw new Error(
      'CITADEL_VECTOR_ENGINE=milvus needs CITADEL_MILVUS_ADDRESS and CITADEL_MILVUS_DATABASE',
    );
  }
  return {
    vectorIndex: async (dimensions) => {
      const { MilvusClient } = await import('@zilliz/milvus2-sdk-node');
      const token = env.CITADEL_MILVUS_TOKEN;
      const client = new MilvusClient({ address, database, ...(token ? { token } : {}) });
      const index = createMilvusVectorIndex({ client, database, dimensions });
      await index.ensureCollection();
      return index;
    },
  };
}

/** `Prefer: respond-async` (RFC 7240): answer 202 with the job, ingest in the background. */
function prefersAsync(request: IncomingMessage): boolean {
  const prefer = request.headers.prefer ?? '';
  return (Array.isArray(prefer) ? prefer.join(',') : prefer)
    .split(',')
    .some((preference) => preference.trim().toLowerCase() === 'respond-async');
}

/** Where the library is mounted as the caller sees it: behind the gateway, `/t/{slug}/library`. */
function mountOf(request: IncomingMessage): string {
  const prefix = request.headers['x-forwarded-prefix'];
  return typeof prefix === 'string' && /^\/t\/[a-z0-9-]{1,40}$/.test(prefix)
    ? `${prefix}/library`
    : '/library';
}

/**
 * The library as a data-plane service (`/t/{slug}/library/…` through the gateway):
 *
 * - `POST /v1/documents` (JSON; `Idempotency-Key`, `Prefer: respond-async` honoured),
 *   `GET /v1/jobs/{id}`, `GET|DELETE /v1/documents/{id}`,
 *   `DELETE /v1/documents/{id}/versions/{n}`, `GET /v1/documents/{id}/versions/{n}/original`;
 * - `GET /v1/search`, `POST /v1/answers`;
 * - `GET|POST /v1/snapshots`, `GET|DELETE /v1/snapshots/{name}`,
 *   `POST /v1/snapshots/{name}/rollback`;
 * - `GET /healthz`.
 *
 * Everything runs on the tenant's own database pool, as the verified principal, decided by
 * Cedar; a caller's mistake is an RFC 7807 problem, never a 500.
 */
export function createLibraryServiceFactory(
  options: LibraryServiceOptions = {},
): DataPlaneServiceFactory {
  return (serviceContext: DataPlaneServiceContext): DataPlaneService => {
    let library: Promise<Library> | undefined;
    const open = (): Promise<Library> => {
      library ??= Promise.resolve()
        .then(() =>
          createLibrary({
            ...options,
            pool: serviceContext.pool,
            logger: serviceContext.logger,
            tenantId: serviceContext.tenant.id,
            planId: serviceContext.environment.CITADEL_TENANT_PLAN ?? 'starter',
            cipher: readTenantDataCipher(serviceContext.environment),
            ...answersOf(serviceContext),
            ...vectorIndexOf(serviceContext),
          }),
        )
        // The outbox's triggers and relay, and the event feed of the gRPC API.
        .then(async (opened) => {
          await events.start();
          return opened;
        })
        .catch((error: unknown) => {
          library = undefined;
          throw error;
        });
      return library;
    };

    const events = createLibraryGrpcService(serviceContext, open, async (caller) => {
      (await open()).requireEventReader(caller);
    });

    /** One route: a path pattern, the methods it answers, and what it does. */
    interface Route {
      path: RegExp;
      methods: readonly string[];
      handle(call: RouteCall): Promise<void>;
    }
    interface RouteCall {
      request: IncomingMessage;
      response: ServerResponse;
      method: string;
      url: URL;
      /** The path pattern's captures, URI-decoded. */
      params: string[];
      principal: RequestPrincipal;
      library: Library;
    }

    const routes: Route[] = [
      {
        path: /^\/v1\/documents$/,
        methods: ['POST'],
        async handle({ request, response, principal, library: lib }) {
          const outcome = await lib.ingest(await readDocumentRequest(request), {
            principal,
            idempotencyKey: idempotencyKeyOf(request),
            respondAsync: prefersAsync(request),
          });
          sendOutcome(request, response, outcome);
        },
      },
      {
        path: new RegExp(`^/v1/jobs/(${UUID})$`),
        methods: ['GET'],
        async handle({ response, params, principal, library: lib }) {
          const found = await lib.job(params[0] ?? '', principal);
          sendJson(response, 200, {
            id: found.id,
            documentId: found.documentId,
            status: found.state,
            attempts: found.attempts,
            createdAt: found.createdAt,
            ...(found.result ? { result: found.result } : {}),
            ...(found.problem ? { problem: found.problem } : {}),
          });
        },
      },
      {
        path: new RegExp(`^/v1/documents/(${UUID})$`),
        methods: ['GET', 'DELETE'],
        async handle({ response, method, params, principal, library: lib }) {
          const id = params[0] ?? '';
          if (method === 'GET') {
            sendJson(response, 200, await lib.getDocument(id, principal));
            return;
          }
          await lib.deleteDocument(id, principal);
          response.writeHead(204).end();
        },
      },
      {
        path: new RegExp(`^/v1/documents/(${UUID})/versions/([1-9][0-9]{0,8})$`),
        methods: ['DELETE'],
        async handle({ response, params, principal, library: lib }) {
          await lib.deleteVersion(params[0] ?? '', Number(params[1]), principal);
          response.writeHead(204).end();
        },
      },
      {
        path: new RegExp(`^/v1/documents/(${UUID})/versions/([1-9][0-9]{0,8})/original$`),
        methods: ['GET'],
        async handle({ response, params, principal, library: lib }) {
          const found = await lib.original(params[0] ?? '', Number(params[1]), principal);
          response
            .writeHead(200, {
              'content-type': found.mediaType,
              'content-length': found.content.length,
              'cache-control': 'no-store',
            })
            .end(found.content);
        },
      },
      {
        path: /^\/v1\/search$/,
        methods: ['GET'],
        async handle({ response, url, principal, library: lib }) {
          sendJson(response, 200, await lib.search(url.searchParams, principal));
        },
      },
      {
        path: /^\/v1\/answers$/,
        methods: ['POST'],
        async handle({ request, response, principal, library: lib }) {
          sendJson(response, 200, await lib.answer(await readJsonBody(request), principal));
        },
      },
      {
        path: /^\/v1\/settings$/,
        methods: ['GET', 'PATCH'],
        async handle({ request, response, method, url, principal, library: lib }) {
          const settings =
            method === 'GET'
              ? await lib.settings(principal)
              : await lib.updateSettings(await readJsonBody(request), principal, {
                  ifMatch: headerOf(request, 'if-match'),
                  reindex: url.searchParams.get('reindex') === 'true',
                });
          response.setHeader('etag', settings.etag);
          sendJson(response, 200, settings);
        },
      },
      {
        path: /^\/v1\/snapshots$/,
        methods: ['GET', 'POST'],
        async handle({ request, response, method, principal, library: lib }) {
          if (method === 'GET') {
            sendJson(response, 200, { snapshots: await lib.listSnapshots(principal) });
            return;
          }
          sendJson(response, 201, await lib.createSnapshot(await readJsonBody(request), principal));
        },
      },
      {
        path: /^\/v1\/snapshots\/([^/]+)\/rollback$/,
        methods: ['POST'],
        async handle({ response, params, principal, library: lib }) {
          sendJson(response, 200, await lib.rollback(params[0] ?? '', principal));
        },
      },
      {
        path: /^\/v1\/snapshots\/([^/]+)$/,
        methods: ['GET', 'DELETE'],
        async handle({ response, method, params, principal, library: lib }) {
          const name = params[0] ?? '';
          if (method === 'GET') {
            sendJson(response, 200, await lib.getSnapshot(name, principal));
            return;
          }
          await lib.deleteSnapshot(name, principal);
          response.writeHead(204).end();
        },
      },
    ];

    async function route(
      request: IncomingMessage,
      response: ServerResponse,
      subpath: string,
      principal: RequestPrincipal,
    ): Promise<void> {
      const url = new URL(subpath, 'http://library.invalid');
      const method = request.method ?? 'GET';
      for (const candidate of routes) {
        const match = candidate.path.exec(url.pathname);
        if (!match) continue;
        if (!candidate.methods.includes(method)) {
          throw LibraryRequestError.methodNotAllowed(candidate.methods.join(', '));
        }
        const params = match.slice(1).map((param) => decodeParam(param));
        await candidate.handle({
          request,
          response,
          method,
          url,
          params,
          principal,
          library: await open(),
        });
        return;
      }
      sendProblem(response, {
        type: 'not-found',
        title: 'Not Found',
        status: 404,
        detail: `The library has no ${url.pathname}.`,
      });
    }

    return {
      name: 'library',
      async handle(request, response, subpath, context: DataPlaneRequestContext) {
        try {
          if (new URL(subpath, 'http://library.invalid').pathname === '/healthz') {
            const opened = await open();
            sendJson(response, 200, {
              status: 'ok',
              service: 'library',
              ...(await opened.describe()),
            });
            return;
          }
          if (!context.principal) {
            sendProblem(response, { type: 'unauthorized', title: 'Unauthorized', status: 401 });
            return;
          }
          await route(request, response, subpath, context.principal);
        } catch (error) {
          const problem: HostProblem | undefined = callerProblemOf(error);
          if (!problem) throw error;
          const headers: Record<string, string> =
            error instanceof LibraryRequestError && error.allow ? { allow: error.allow } : {};
          // A refused upload is not read to its end: the connection closes instead.
          if (!request.complete) headers.connection = 'close';
          sendProblem(response, problem, headers);
        }
      },
      grpc: events.grpc,
      async close() {
        await events.close();
        if (library) await (await library).close();
      },
    };
  };
}
