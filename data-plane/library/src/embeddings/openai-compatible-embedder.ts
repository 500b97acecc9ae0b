import { EmbeddingProviderError } from './embedding-provider-error.ts';
import { type EmbeddingProvider, type EmbedOptions } from './embedding-provider.ts';

export interface OpenAiCompatibleEmbedderOptions {
  /** The server's root, e.g. `http://vllm:8000`; requests go to `{baseUrl}/v1/embeddings`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  model: string;
  /**
   * The vector length the model returns. When set, every response is checked against it;
   * when not, it is learnt from the first response (and `dimensions` reads 0 until then).
   */
  dimensions?: number;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Per request, including reading the body (default 30 000). */
  timeoutMs?: number;
  /** Retries of a 429, a 5xx, a timeout or a failed connection (default 3). */
  maxRetries?: number;
  /** The first back-off (default 500 ms), doubled on each retry, with jitter. */
  retryBaseDelayMs?: number;
  /** The longest wait between tries, `Retry-After` included (default 30 000). */
  maxRetryDelayMs?: number;
}

interface EmbedderSettings {
  endpoint: string;
  apiKey: string | undefined;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  maxRetryDelayMs: number;
}

/**
 * Embeddings from any server that speaks OpenAI's `POST /v1/embeddings` (OpenAI, vLLM,
 * Text Embeddings Inference, Ollama…), asking for `encoding_format: "float"`. Texts are sent
 * in batches; 429 and 5xx answers are retried with exponential back-off that honours
 * `Retry-After`; responses are validated (one finite vector per input, of the expected
 * length) before they are returned.
 */
export function createOpenAiCompatibleEmbedder(
  options: OpenAiCompatibleEmbedderOptions,
): EmbeddingProvider {
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a positive integer.');
  const settings: EmbedderSettings = {
    endpoint: `${options.baseUrl.replace(/\/+$/, '')}/v1/embeddings`,
    apiKey: options.apiKey,
    model: options.model,
    timeoutMs: options.timeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 3,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
    maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
  };
  let dimensions = options.dimensions ?? 0;
  return {
    id: 'openai-compatible',
    model: options.model,
    get dimensions() {
      return dimensions;
    },
    async embed(texts: string[], embedOptions: EmbedOptions = {}): Promise<Float32Array[]> {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        const batch = texts.slice(start, start + batchSize);
        const body = await requestWithRetries(settings, batch, embedOptions.signal);
        const batchVectors = parseEmbeddings(body, batch.length, dimensions);
        dimensions ||= batchVectors[0]?.length ?? 0;
        vectors.push(...batchVectors);
      }
      return vectors;
    },
  };
}

async function requestWithRetries(
  settings: EmbedderSettings,
  input: string[],
  signal: AbortSignal | undefined,
): Promise<unknown> {
  for (let attempt = 0; ; attempt += 1) {
    const outcome = await requestOnce(settings, input, signal);
    if (outcome.ok) return outcome.body;
    if (!outcome.retryable || attempt >= settings.maxRetries) throw outcome.error;
    await sleep(retryDelay(settings, attempt, outcome.retryAfter), signal);
  }
}

type RequestOutcome =
  | { ok: true; body: unknown }
  | { ok: false; error: EmbeddingProviderError; retryable: boolean; retryAfter?: string | null };

async function requestOnce(
  settings: EmbedderSettings,
  input: string[],
  signal: AbortSignal | undefined,
): Promise<RequestOutcome> {
  signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  try {
    const response = await fetch(settings.endpoint, {
      method: 'POST',
      headers: requestHeaders(settings.apiKey),
      body: JSON.stringify({ model: settings.model, input, encoding_format: 'float' }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await response.text();
    if (response.ok) return { ok: true, body: parseJson(text) };
    const providerMessage = providerErrorMessage(text);
    const error = new EmbeddingProviderError(
      'provider_error',
      `The embedding provider answered ${response.status}: ${providerMessage}`,
      { status: response.status, providerMessage },
    );
    const retryable = response.status === 429 || response.status >= 500;
    return { ok: false, error, retryable, retryAfter: response.headers.get('retry-after') };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof EmbeddingProviderError) return { ok: false, error, retryable: false };
    const reason = timeout.aborted
      ? `no answer within ${settings.timeoutMs} ms`
      : 'the connection failed';
    const unavailable = new EmbeddingProviderError(
      'unavailable',
      `The embedding provider is unavailable: ${reason}.`,
      {
        cause: error,
      },
    );
    return { ok: false, error: unavailable, retryable: true };
  }
}

function requestHeaders(apiKey: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
  };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return headers;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new EmbeddingProviderError(
      'invalid_response',
      'The embedding provider answered with a body that is not JSON.',
      {
        cause: error,
      },
    );
  }
}

/** OpenAI and vLLM send `{error: {message}}`, Text Embeddings Inference `{error: "…"}`, others plain text. */
function providerErrorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = body.error as { message?: unknown } | string | undefined;
    const message =
      typeof error === 'string' ? error : (error?.message ?? body.message ?? body.detail);
    if (typeof message === 'string' && message) return message;
  } catch {
    // Not JSON: the text itself is the message.
  }
  return text.trim().slice(0, 500) || '(no message)';
}

/**
 * Checks the body is `{data: [{embedding: number[], index}]}` with one entry per input, and
 * returns the vectors in input order.
 */
function parseEmbeddings(body: unknown, expected: number, dimensions: number): Float32Array[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length !== expected) {
    throw invalid(
      `expected ${expected} embeddings, got ${Array.isArray(data) ? data.length : 'none'}`,
    );
  }
  const vectors = new Array<Float32Array | undefined>(expected);
  data.forEach((entry: unknown, position) => {
    const { embedding, index } = (entry ?? {}) as { embedding?: unknown; index?: unknown };
    const slot = typeof index === 'number' ? index : position;
    if (!Number.isInteger(slot) || slot < 0 || slot >= expected || vectors[slot]) {
      throw invalid(`an embedding has the index ${String(index)}`);
    }
    vectors[slot] = toVector(embedding, dimensions || (vectors.find(Boolean)?.length ?? 0));
  });
  return vectors as Float32Array[];
}

function toVector(embedding: unknown, dimensions: number): Float32Array {
  if (!Array.isArray(embedding) || embedding.length === 0)
    throw invalid('an embedding is not an array of numbers');
  if (dimensions && embedding.length !== dimensions) {
    throw invalid(`an embedding has ${embedding.length} dimensions, expected ${dimensions}`);
  }
  if (!embedding.every((value) => typeof value === 'number' && Number.isFinite(value))) {
    throw invalid('an embedding holds a value that is not a finite number');
  }
  return Float32Array.from(embedding as number[]);
}

function invalid(detail: string): EmbeddingProviderError {
  return new EmbeddingProviderError(
    'invalid_response',
    `The embedding provider's response is invalid: ${detail}.`,
  );
}

/** `Retry-After` (seconds or an HTTP date) when given, else exponential back-off with jitter; capped. */
function retryDelay(
  settings: EmbedderSettings,
  attempt: number,
  retryAfter?: string | null,
): number {
  const requested = parseRetryAfter(retryAfter);
  const backOff = settings.retryBaseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
  return Math.min(requested ?? backOff, settings.maxRetryDelayMs);
}

function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
