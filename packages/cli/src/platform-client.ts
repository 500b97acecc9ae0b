import type { ProblemDetails, TenantResource } from '@citadel/contracts';

/** A tenant as the REST API returns it: the resource plus its identity at the top level. */
export interface TenantView extends TenantResource {
  slug: string;
  displayName: string;
  plan: string;
}

/** One page of `GET /api/v1/tenants`; `nextCursor` is absent on the last page. */
export interface TenantPage {
  items: TenantView[];
  nextCursor?: string;
}

/** The body of `POST /api/v1/tenants`. */
export interface CreateTenantInput {
  slug: string;
  displayName: string;
  plan: string;
}

/** The query of `GET /api/v1/tenants`. */
export interface ListTenantsInput {
  limit?: number;
  cursor?: string;
}

/** One finding of `POST /api/v1/tenants/{slug}/audit/verify`. */
export interface AuditProblemView {
  sequence: number;
  kind: string;
  message: string;
}

/** The verification report of a tenant's audit log. */
export interface AuditVerificationView {
  ok: boolean;
  entries: number;
  checkpoints: number;
  lastSequence: number;
  problems: AuditProblemView[];
}

/** The platform-operator REST API (`/api/v1`), typed. */
export interface PlatformClient {
  createTenant(input: CreateTenantInput): Promise<TenantView>;
  listTenants(input?: ListTenantsInput): Promise<TenantPage>;
  getTenant(slug: string): Promise<TenantView>;
  suspendTenant(slug: string): Promise<TenantView>;
  resumeTenant(slug: string): Promise<TenantView>;
  deleteTenant(slug: string): Promise<TenantView>;
  verifyAuditLog(slug: string): Promise<AuditVerificationView>;
  /** The tenant's audit log as NDJSON text chunks, oldest entry first, streamed. */
  exportAuditLog(slug: string): Promise<AsyncIterable<string>>;
}

/** The platform answered with an HTTP error; `problem` is its RFC 7807 body (or one made up from the status when the body was not a problem). */
export class PlatformApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails;

  constructor(problem: ProblemDetails) {
    super(problem.detail === undefined ? problem.title : `${problem.title}: ${problem.detail}`);
    this.name = 'PlatformApiError';
    this.status = problem.status;
    this.problem = problem;
  }
}

/** No HTTP answer at all: connection refused, DNS failure, reset, or the request timed out. */
export class PlatformUnreachableError extends Error {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super(`cannot reach the platform at ${url}: ${describeNetworkCause(cause)}`, { cause });
    this.name = 'PlatformUnreachableError';
    this.url = url;
  }
}

/** How {@link createPlatformClient} reaches the platform. */
export interface PlatformClientOptions {
  /** Where the platform listens, e.g. `http://localhost:8080`; may carry a path prefix. */
  baseUrl: string;
  /** The platform-operator bearer token; requests go without `Authorization` when absent. */
  token: string | undefined;
  fetch: typeof globalThis.fetch;
  /** Gives up on a single request after this long (default 30 s). */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const USER_AGENT = 'citadel-cli/0.1.0';

interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
}

/** Creates a client for the platform-operator REST API over `fetch`. */
export function createPlatformClient(options: PlatformClientOptions): PlatformClient {
  const apiRoot = new URL(
    'api/v1/',
    options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`,
  );
  const send = <T>(spec: RequestSpec): Promise<T> => sendRequest<T>(apiRoot, spec, options);
  const tenantPath = (slug: string, action = ''): string =>
    `tenants/${encodeURIComponent(slug)}${action}`;

  return {
    createTenant: (input) => send({ method: 'POST', path: 'tenants', body: input }),
    listTenants: (input = {}) => send({ method: 'GET', path: `tenants${listQuery(input)}` }),
    getTenant: (slug) => send({ method: 'GET', path: tenantPath(slug) }),
    suspendTenant: (slug) => send({ method: 'POST', path: tenantPath(slug, '/suspend') }),
    resumeTenant: (slug) => send({ method: 'POST', path: tenantPath(slug, '/resume') }),
    deleteTenant: (slug) => send({ method: 'DELETE', path: tenantPath(slug) }),
    verifyAuditLog: (slug) => send({ method: 'POST', path: tenantPath(slug, '/audit/verify') }),
    exportAuditLog: (slug) => openTextStream(apiRoot, tenantPath(slug, '/audit/export'), options),
  };
}

function listQuery(input: ListTenantsInput): string {
  const query = new URLSearchParams();
  if (input.limit !== undefined) query.set('limit', String(input.limit));
  if (input.cursor !== undefined) query.set('cursor', input.cursor);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

async function sendRequest<T>(
  apiRoot: URL,
  spec: RequestSpec,
  options: PlatformClientOptions,
): Promise<T> {
  const url = new URL(spec.path, apiRoot);
  const headers = requestHeaders(options, 'application/json');
  if (spec.body !== undefined) headers['content-type'] = 'application/json';

  let response: Response;
  try {
    response = await options.fetch(url, {
      method: spec.method,
      headers,
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      signal: AbortSignal.timeout(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new PlatformUnreachableError(url.origin, error);
  }
  const text = await response.text();
  if (!response.ok) throw new PlatformApiError(readProblem(response, text));
  return parseJsonBody(response, text) as T;
}

function requestHeaders(options: PlatformClientOptions, accept: string): Record<string, string> {
  const headers: Record<string, string> = {
    accept: `${accept}, application/problem+json`,
    'user-agent': USER_AGENT,
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return headers;
}

/**
 * GETs a streamed body (such as NDJSON). The timeout covers the wait for the response
 * headers only: a long export may take as long as it needs once it has started.
 */
async function openTextStream(
  apiRoot: URL,
  path: string,
  options: PlatformClientOptions,
): Promise<AsyncIterable<string>> {
  const url = new URL(path, apiRoot);
  const controller = new AbortController();
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const timer = setTimeout(() => {
    controller.abort(new DOMException('no answer in time', 'TimeoutError'));
  }, timeoutMs);
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: 'GET',
      headers: requestHeaders(options, 'application/x-ndjson'),
      signal: controller.signal,
    });
  } catch (error) {
    throw new PlatformUnreachableError(url.origin, error);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw new PlatformApiError(readProblem(response, await response.text()));
  const empty = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
  return (response.body ?? empty).pipeThrough(utf8Decoder());
}

/**
 * Bytes to text, chunk by chunk (a character split across chunks is kept for the next).
 * TextDecoderStream would do, but its DOM and Node typings disagree when both are loaded.
 */
function utf8Decoder(): TransformStream<Uint8Array, string> {
  const decoder = new TextDecoder();
  return new TransformStream<Uint8Array, string>({
    transform(chunk, controller) {
      controller.enqueue(decoder.decode(chunk, { stream: true }));
    },
    flush(controller) {
      const tail = decoder.decode();
      if (tail !== '') controller.enqueue(tail);
    },
  });
}

function parseJsonBody(response: Response, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PlatformApiError({
      type: 'about:blank',
      title: 'Unexpected response',
      status: response.status,
      detail: `the platform answered ${response.status} with a body that is not JSON`,
    });
  }
}

/** The problem in an error response, or one made up from the status when the body is not RFC 7807. */
function readProblem(response: Response, text: string): ProblemDetails {
  const parsed = tryParseJson(text);
  if (isProblemLike(parsed)) {
    // RFC 7807: an absent `type` means about:blank; the HTTP status is the authoritative one.
    const type = typeof parsed.type === 'string' ? parsed.type : 'about:blank';
    return { ...parsed, type, title: parsed.title, status: response.status };
  }
  const title = response.statusText === '' ? `HTTP ${response.status}` : response.statusText;
  const snippet = text.trim().slice(0, 200);
  return {
    type: 'about:blank',
    title,
    status: response.status,
    ...(snippet === '' ? {} : { detail: snippet }),
  };
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isProblemLike(value: unknown): value is Record<string, unknown> & { title: string } {
  if (typeof value !== 'object' || value === null) return false;
  return typeof (value as Record<string, unknown>).title === 'string';
}

/** fetch() wraps the socket error in `cause`; its code (ECONNREFUSED…) is what a user can act on. */
function describeNetworkCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer in time';
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    if (typeof code !== 'string') return cause.message;
    return cause.message === '' ? code : `${code} (${cause.message})`;
  }
  return error.message;
}
