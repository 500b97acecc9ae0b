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
import { callerProblemOf } from './ingestion/ingestion-jobs.ts';
import { readIngestRequest } from './ingestion/ingest-request.ts';
import { LibraryRequestError, readJsonBody } from './http/library-requests.ts';
import { createLibrary, type Library, type LibraryOptions } from './library.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const DOCUMENT_PATH = new RegExp(`^/v1/documents/(${UUID})$`);
const VERSION_PATH = new RegExp(`^/v1/documents/(${UUID})/versions/([1-9][0-9]{0,8})$`);
const ORIGINAL_PATH = new RegExp(`^/v1/documents/(${UUID})/versions/([1-9][0-9]{0,8})/original$`);
const JOB_PATH = new RegExp(`^/v1/jobs/(${UUID})$`);
const SNAPSHOT_PATH = /^\/v1\/snapshots\/([^/]+)$/;
const ROLLBACK_PATH = /^\/v1\/snapshots\/([^/]+)\/rollback$/;

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

function allow(method: string, allowed: readonly string[]): void {
  if (!allowed.includes(method)) throw LibraryRequestError.methodNotAllowed(allowed.join(', '));
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
    const open = () => {
      library ??= Promise.resolve()
        .then(() =>
          createLibrary({
            ...options,
            pool: serviceContext.pool,
            logger: serviceContext.logger,
            tenantId: serviceContext.tenant.id,
            planId: serviceContext.environment.CITADEL_TENANT_PLAN ?? 'starter',
            cipher: readTenantDataCipher(serviceContext.environment),
          }),
        )
        .catch((error: unknown) => {
          library = undefined;
          throw error;
        });
      return library;
    };

    async function route(
      request: IncomingMessage,
      response: ServerResponse,
      subpath: string,
      principal: RequestPrincipal,
    ): Promise<void> {
      const url = new URL(subpath, 'http://library.invalid');
      const path = url.pathname;
      const method = request.method ?? 'GET';
      const lib = await open();

      if (path === '/v1/documents') {
        allow(method, ['POST']);
        const ingestRequest = readIngestRequest(await readJsonBody(request));
        const outcome = await lib.ingest(ingestRequest, {
          principal,
          idempotencyKey: idempotencyKeyOf(request),
          respondAsync: prefersAsync(request),
        });
        const replayed = 'replayed' in outcome && outcome.replayed;
        const headers: Record<string, string> = replayed ? { 'idempotent-replayed': 'true' } : {};
        if (outcome.kind === 'failed') {
          sendProblem(response, outcome.problem, headers);
        } else if (outcome.kind === 'accepted') {
          response.setHeader('location', `${mountOf(request)}/v1/jobs/${outcome.job.id}`);
          sendJson(response, 202, {
            id: outcome.job.documentId,
            jobId: outcome.job.id,
            status: outcome.job.state,
          });
        } else {
          for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
          sendJson(response, outcome.result.unchanged ? 200 : 201, outcome.result);
        }
        return;
      }
      const job = JOB_PATH.exec(path);
      if (job?.[1] !== undefined) {
        allow(method, ['GET']);
        const found = await lib.job(job[1], principal);
        sendJson(response, 200, {
          id: found.id,
          documentId: found.documentId,
          status: found.state,
          attempts: found.attempts,
          createdAt: found.createdAt,
          ...(found.result ? { result: found.result } : {}),
          ...(found.problem ? { problem: found.problem } : {}),
        });
        return;
      }
      const document = DOCUMENT_PATH.exec(path);
      if (document?.[1] !== undefined) {
        allow(method, ['GET', 'DELETE']);
        if (method === 'GET') {
          sendJson(response, 200, await lib.getDocument(document[1], principal));
        } else {
          await lib.deleteDocument(document[1], principal);
          response.writeHead(204).end();
        }
        return;
      }
      const version = VERSION_PATH.exec(path);
      if (version?.[1] !== undefined && version[2] !== undefined) {
        allow(method, ['DELETE']);
        await lib.deleteVersion(version[1], Number(version[2]), principal);
        response.writeHead(204).end();
        return;
      }
      const original = ORIGINAL_PATH.exec(path);
      if (original?.[1] !== undefined && original[2] !== undefined) {
        allow(method, ['GET']);
        const found = await lib.original(original[1], Number(original[2]), principal);
        response
          .writeHead(200, {
            'content-type': found.mediaType,
            'content-length': found.content.length,
            'cache-control': 'no-store',
          })
          .end(found.content);
        return;
      }
      if (path === '/v1/search') {
        allow(method, ['GET']);
        sendJson(response, 200, await lib.search(url.searchParams, principal));
        return;
      }
      if (path === '/v1/answers') {
        allow(method, ['POST']);
        sendJson(response, 200, await lib.answer(await readJsonBody(request), principal));
        return;
      }
      if (path === '/v1/snapshots') {
        allow(method, ['GET', 'POST']);
        if (method === 'GET') {
          sendJson(response, 200, { snapshots: await lib.listSnapshots(principal) });
        } else {
          sendJson(response, 201, await lib.createSnapshot(await readJsonBody(request), principal));
        }
        return;
      }
      const rollback = ROLLBACK_PATH.exec(path);
      if (rollback?.[1] !== undefined) {
        allow(method, ['POST']);
        sendJson(response, 200, await lib.rollback(decodeURIComponent(rollback[1]), principal));
        return;
      }
      const snapshot = SNAPSHOT_PATH.exec(path);
      if (snapshot?.[1] !== undefined) {
        allow(method, ['GET', 'DELETE']);
        const name = decodeURIComponent(snapshot[1]);
        if (method === 'GET') {
          sendJson(response, 200, await lib.getSnapshot(name, principal));
        } else {
          await lib.deleteSnapshot(name, principal);
          response.writeHead(204).end();
        }
        return;
      }
      sendProblem(response, {
        type: 'not-found',
        title: 'Not Found',
        status: 404,
        detail: `The library has no ${path}.`,
      });
    }

    return {
      name: 'library',
      async handle(request, response, subpath, context: DataPlaneRequestContext) {
        try {
          if (new URL(subpath, 'http://library.invalid').pathname === '/healthz') {
            const opened = await open();
            sendJson(response, 200, { status: 'ok', service: 'library', ...opened.describe() });
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
          sendProblem(response, problem, headers);
        }
      },
      async close() {
        if (library) await (await library).close();
      },
    };
  };
}
