import type { IncomingMessage } from 'node:http';
import type { HostProblem } from '@citadel/data-plane-runtime';

/** A request the library refuses, with the RFC 7807 problem it answers. */
export class LibraryRequestError extends Error {
  readonly problem: HostProblem;
  readonly allow: string | undefined;

  constructor(problem: HostProblem, allow?: string) {
    super(problem.detail ?? problem.title);
    this.name = 'LibraryRequestError';
    this.problem = problem;
    this.allow = allow;
  }

  /** 400 with the fields at fault: `[{ path, message }]`. */
  static invalid(detail: string, errors: Array<{ path: string; message: string }> = []) {
    return new LibraryRequestError({
      type: 'validation-error',
      title: 'Invalid request',
      status: 400,
      detail,
      ...(errors.length > 0 ? { errors } : {}),
    });
  }

  static notFound(detail: string) {
    return new LibraryRequestError({ type: 'not-found', title: 'Not Found', status: 404, detail });
  }

  static forbidden(detail: string) {
    return new LibraryRequestError({ type: 'forbidden', title: 'Forbidden', status: 403, detail });
  }

  static conflict(type: string, detail: string) {
    return new LibraryRequestError({ type, title: 'Conflict', status: 409, detail });
  }

  static methodNotAllowed(allow: string) {
    return new LibraryRequestError(
      { type: 'method-not-allowed', title: 'Method Not Allowed', status: 405 },
      allow,
    );
  }
}

/** The largest JSON request body read: a 20 MiB document as base64 (26.7 MiB) and its fields. */
export const MAX_JSON_BODY_BYTES = 28 * 1024 * 1024;

/** Reads and parses a JSON request body; 415 for another type, 413 beyond `maxBytes`. */
export async function readJsonBody(
  request: IncomingMessage,
  maxBytes = MAX_JSON_BODY_BYTES,
): Promise<unknown> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new LibraryRequestError({
      type: 'unsupported-media-type',
      title: 'Unsupported Media Type',
      status: 415,
      detail: 'Send application/json (or multipart/form-data where a document is uploaded).',
    });
  }
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw LibraryRequestError.invalid('The body is not valid JSON.');
  }
}

function tooLarge(maxBytes: number) {
  return new LibraryRequestError({
    type: 'payload-too-large',
    title: 'Payload Too Large',
    status: 413,
    detail: `At most ${maxBytes} bytes are accepted.`,
  });
}

/** Field readers that collect every problem of a body before refusing it. */
export function createFieldReader(body: unknown) {
  const errors: Array<{ path: string; message: string }> = [];
  const record =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  if (!record) errors.push({ path: '', message: 'must be a JSON object' });
  /** Records a problem; the field reads as absent. */
  function fail(path: string, message: string): void {
    errors.push({ path, message });
  }
  return {
    string(path: string, { required = false, max = 10_000, min = 1 } = {}): string | undefined {
      const value = record?.[path];
      if (value === undefined || value === null) {
        if (required) fail(path, 'is required');
        return undefined;
      }
      if (typeof value !== 'string') {
        fail(path, 'must be a string');
        return undefined;
      }
      if (value.length < min) {
        fail(path, `must have at least ${min} character(s)`);
        return undefined;
      }
      if (value.length > max) {
        fail(path, `must have at most ${max} characters`);
        return undefined;
      }
      return value;
    },
    strings(path: string, { max = 50, maxLength = 100 } = {}): string[] | undefined {
      const value = record?.[path];
      if (value === undefined || value === null) return undefined;
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
        {
          fail(path, 'must be an array of non-empty strings');
          return undefined;
        }
      }
      const items = value as string[];
      if (items.length > max) {
        fail(path, `must have at most ${max} items`);
        return undefined;
      }
      if (items.some((item) => item.length > maxLength)) {
        {
          fail(path, `items must have at most ${maxLength} characters`);
          return undefined;
        }
      }
      return items;
    },
    integer(path: string, { min = 1, max = 100 } = {}): number | undefined {
      const value = record?.[path];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        {
          fail(path, `must be an integer from ${min} to ${max}`);
          return undefined;
        }
      }
      return value;
    },
    uuid(path: string): string | undefined {
      const value = record?.[path];
      if (value === undefined || value === null) return undefined;
      if (
        typeof value !== 'string' ||
        !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)
      ) {
        {
          fail(path, 'must be a UUID');
          return undefined;
        }
      }
      return value;
    },
    /** One of `allowed` (absent: undefined). */
    oneOf<const T extends string>(path: string, allowed: readonly T[]): T | undefined {
      const value = record?.[path];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string' || !allowed.includes(value as T)) {
        fail(path, `must be one of ${allowed.join(', ')}`);
        return undefined;
      }
      return value as T;
    },
    boolean(path: string): boolean | undefined {
      const value = record?.[path];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'boolean') {
        fail(path, 'must be true or false');
        return undefined;
      }
      return value;
    },
    /** Records a problem found by the caller's own check. */
    fail,
    /** Throws the 400 listing every problem found, if any. */
    done(): void {
      if (errors.length > 0) {
        throw LibraryRequestError.invalid('The request has invalid fields.', errors);
      }
    },
  };
}
