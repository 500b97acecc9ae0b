import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  sendJson,
  sendProblem,
  type DataPlaneRequestContext,
  type DataPlaneService,
  type DataPlaneServiceContext,
  type DataPlaneServiceFactory,
  type HostProblem,
} from '@citadel/data-plane-runtime';
import { LibraryRequestError, readJsonBody } from './http/library-requests.ts';
import { createLibrary, type Library, type LibraryOptions } from './library.ts';
import { DocumentParseError } from './parsing/document-parse-error.ts';
import { DocumentNotFoundError } from './store/library-store.ts';

const DOCUMENT_PATH = /^\/v1\/documents\/([0-9a-f-]{36})$/;

/** Who ingested: the verified principal, as provenance (`user:<id>`, `api-key:<id>`, `operator`). */
function principalName(context: DataPlaneRequestContext): string {
  const principal = context.principal;
  if (!principal) return 'anonymous';
  return principal.type === 'operator' ? 'operator' : `${principal.type}:${principal.id}`;
}

function problemOf(error: unknown): HostProblem | undefined {
  if (error instanceof LibraryRequestError) return error.problem;
  if (error instanceof DocumentParseError) {
    return {
      type: error.code.replaceAll('_', '-'),
      title: error.message,
      status: error.status,
    };
  }
  if (error instanceof DocumentNotFoundError) {
    return { type: 'not-found', title: 'Not Found', status: 404, detail: error.message };
  }
  return undefined;
}

/**
 * The library as a data-plane service (`/t/{slug}/library/…` through the gateway):
 * `POST /v1/documents`, `GET /v1/documents/{id}`, `GET /v1/search`, `POST /v1/answers`,
 * `GET /healthz`. Everything runs on the tenant's own database pool; a caller's mistake is an
 * RFC 7807 problem, never a 500.
 */
export function createLibraryServiceFactory(
  options: Omit<LibraryOptions, 'pool' | 'logger'> = {},
): DataPlaneServiceFactory {
  return (serviceContext: DataPlaneServiceContext): DataPlaneService => {
    let library: Promise<Library> | undefined;
    const open = () => {
      library ??= createLibrary({
        ...options,
        pool: serviceContext.pool,
        logger: serviceContext.logger,
      }).catch((error: unknown) => {
        library = undefined;
        throw error;
      });
      return library;
    };

    async function route(
      request: IncomingMessage,
      response: ServerResponse,
      subpath: string,
      context: DataPlaneRequestContext,
    ): Promise<void> {
      const url = new URL(subpath, 'http://library.invalid');
      const method = request.method ?? 'GET';
      if (url.pathname === '/healthz') {
        const opened = await open();
        sendJson(response, 200, { status: 'ok', service: 'library', ...opened.describe() });
        return;
      }
      if (url.pathname === '/v1/documents') {
        if (method !== 'POST') throw LibraryRequestError.methodNotAllowed('POST');
        const body = await readJsonBody(request);
        const result = await (await open()).ingest(body, { ingestedBy: principalName(context) });
        sendJson(response, result.unchanged ? 200 : 201, result);
        return;
      }
      const document = DOCUMENT_PATH.exec(url.pathname);
      if (document?.[1] !== undefined) {
        if (method !== 'GET') throw LibraryRequestError.methodNotAllowed('GET');
        const found = await (await open()).getDocument(document[1]);
        if (!found) throw new DocumentNotFoundError(document[1]);
        sendJson(response, 200, found);
        return;
      }
      if (url.pathname === '/v1/search') {
        if (method !== 'GET') throw LibraryRequestError.methodNotAllowed('GET');
        sendJson(response, 200, await (await open()).search(url.searchParams));
        return;
      }
      if (url.pathname === '/v1/answers') {
        if (method !== 'POST') throw LibraryRequestError.methodNotAllowed('POST');
        sendJson(response, 200, await (await open()).answer(await readJsonBody(request)));
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
      async handle(request, response, subpath, context) {
        try {
          await route(request, response, subpath, context);
        } catch (error) {
          const problem = problemOf(error);
          if (!problem) throw error;
          const headers: Record<string, string> =
            error instanceof LibraryRequestError && error.allow ? { allow: error.allow } : {};
          sendProblem(response, problem, headers);
        }
      },
    };
  };
}
