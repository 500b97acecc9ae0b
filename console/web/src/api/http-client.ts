import { ApiError, type FieldError } from './api-error.ts';

/**
 * The console's one way to reach the platform: same-origin requests carrying the session
 * cookie, and on every POST the session's CSRF token in `x-csrf-token` (the platform
 * refuses cookie-authenticated mutations without it).
 */
export const CSRF_HEADER = 'x-csrf-token';

let csrfToken: string | undefined;
const unauthenticatedListeners = new Set<() => void>();

/** Remembers the session's CSRF token (from the login answer or GET /auth/session). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Calls `listener` whenever the platform says the session is gone; returns an unsubscribe. */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export function reportUnauthenticated(): void {
  for (const listener of unauthenticatedListeners) listener();
}

interface ProblemBody {
  type?: unknown;
  title?: unknown;
  detail?: unknown;
  errors?: unknown;
}

function problemCode(type: unknown, status: number): string {
  if (typeof type === 'string' && type.length > 0) return type.slice(type.lastIndexOf('/') + 1);
  return status === 429 ? 'rate-limited' : `http-${status}`;
}

function fieldErrorsOf(errors: unknown): FieldError[] {
  if (!Array.isArray(errors)) return [];
  return errors.filter(
    (item): item is FieldError =>
      typeof (item as Partial<FieldError>).path === 'string' &&
      typeof (item as Partial<FieldError>).message === 'string',
  );
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** An RFC 7807 problem answer as an ApiError. */
async function problemError(response: Response): Promise<ApiError> {
  const body = ((await readJson(response)) ?? {}) as ProblemBody;
  const retryAfter = Number(response.headers.get('retry-after'));
  const detail = typeof body.detail === 'string' ? body.detail : undefined;
  const title = typeof body.title === 'string' ? body.title : `Request failed (${response.status})`;
  return new ApiError({
    status: response.status,
    code: problemCode(body.type, response.status),
    message: detail ?? title,
    fieldErrors: fieldErrorsOf(body.errors),
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  });
}

/** `fetch` with the console's defaults; network failures become ApiError `network`. */
export async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('accept', headers.get('accept') ?? 'application/json');
  if (init.method === 'POST' && csrfToken !== undefined) headers.set(CSRF_HEADER, csrfToken);
  try {
    return await fetch(path, { ...init, headers, credentials: 'same-origin' });
  } catch {
    throw new ApiError({ status: 0, code: 'network', message: 'The platform cannot be reached.' });
  }
}

/** GET a REST resource; a problem answer throws. */
export async function getJson<T>(path: string): Promise<T> {
  const response = await send(path);
  if (!response.ok) throw await problemError(response);
  return (await readJson(response)) as T;
}

/** POST JSON to a REST endpoint; a problem answer throws. */
export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const response = await send(path, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const error = await problemError(response);
    if (error.unauthenticated) reportUnauthenticated();
    throw error;
  }
  return (await readJson(response)) as T;
}
