import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiCompatibleEmbedder, EmbeddingProviderError } from '../src/embeddings/index.ts';

interface EmbeddingsRequest {
  headers: IncomingMessage['headers'];
  url: string | undefined;
  body: { model: string; input: string[]; encoding_format: string };
}

type Responder = (request: EmbeddingsRequest, response: ServerResponse) => void;

/** What OpenAI, vLLM, TEI and Ollama answer: one `{embedding, index}` per input. */
function embeddingsBody(input: string[], dimensions: number): unknown {
  return {
    object: 'list',
    model: 'test-model',
    // Reversed, as a server may answer out of order: the index decides.
    data: input
      .map((text, index) => ({
        object: 'embedding',
        index,
        embedding: Array.from({ length: dimensions }, (_, position) => text.length + position / 10),
      }))
      .reverse(),
    usage: { prompt_tokens: input.length, total_tokens: input.length },
  };
}

const json = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};

const answerEmbeddings =
  (dimensions = 3): Responder =>
  (request, response) =>
    json(response, 200, embeddingsBody(request.body.input, dimensions));

describe('createOpenAiCompatibleEmbedder, against a local server speaking the OpenAI embeddings protocol (a test double: no LLM provider can run here)', () => {
  let server: Server;
  let baseUrl: string;
  const requests: EmbeddingsRequest[] = [];
  let responders: Responder[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const received: EmbeddingsRequest = {
          headers: request.headers,
          url: request.url,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as EmbeddingsRequest['body'],
        };
        requests.push(received);
        const responder = responders.shift() ?? answerEmbeddings();
        responder(received, response);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(() => {
    server.close();
  });

  beforeEach(() => {
    requests.length = 0;
    responders = [];
  });

  const embedder = (
    options: {
      dimensions?: number;
      batchSize?: number;
      maxRetries?: number;
      timeoutMs?: number;
    } = {},
  ) =>
    createOpenAiCompatibleEmbedder({
      baseUrl,
      apiKey: 'sk-test',
      model: 'test-model',
      retryBaseDelayMs: 10,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...options,
    });

  it('posts {model, input, encoding_format: "float"} with the bearer key, in batches, and returns vectors in input order', async () => {
    const provider = embedder({ dimensions: 3, batchSize: 2 });
    const vectors = await provider.embed(['a', 'bb', 'ccc', 'dddd', 'eeeee']);
    expect(requests.map((request) => request.body.input)).toEqual([
      ['a', 'bb'],
      ['ccc', 'dddd'],
      ['eeeee'],
    ]);
    expect(requests[0]?.url).toBe('/v1/embeddings');
    expect(requests[0]?.body).toEqual({
      model: 'test-model',
      input: ['a', 'bb'],
      encoding_format: 'float',
    });
    expect(requests[0]?.headers.authorization).toBe('Bearer sk-test');
    expect(vectors.map((vector) => vector[0])).toEqual([1, 2, 3, 4, 5]);
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(provider).toMatchObject({ id: 'openai-compatible', model: 'test-model', dimensions: 3 });
  });

  it('learns the dimensions from the first response when none are configured', async () => {
    const provider = embedder();
    expect(provider.dimensions).toBe(0);
    responders = [answerEmbeddings(5)];
    await provider.embed(['x']);
    expect(provider.dimensions).toBe(5);
    responders = [answerEmbeddings(4)];
    await expect(provider.embed(['x'])).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('retries a 429 after the Retry-After the provider asks for, then succeeds', async () => {
    responders = [
      (_request, response) =>
        json(response, 429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '1' }),
      answerEmbeddings(),
    ];
    const started = performance.now();
    const vectors = await embedder({ dimensions: 3 }).embed(['hello']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(vectors).toHaveLength(1);
    expect(requests).toHaveLength(2);
  });

  it('gives up after maxRetries on repeated 500s, with the status and the provider message', async () => {
    responders = Array.from(
      { length: 3 },
      () => (_request: EmbeddingsRequest, response: ServerResponse) =>
        json(response, 500, { error: { message: 'CUDA out of memory', type: 'server_error' } }),
    );
    const error = await embedder({ maxRetries: 2 })
      .embed(['x'])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EmbeddingProviderError);
    expect(error).toMatchObject({
      code: 'provider_error',
      status: 500,
      providerMessage: 'CUDA out of memory',
    });
    expect(requests).toHaveLength(3);
  });

  it('does not retry a 400 and reads a TEI-style {error: "…"} message', async () => {
    responders = [
      (_request, response) =>
        json(response, 413, {
          error: 'Input validation error: batch too large',
          error_type: 'Validation',
        }),
    ];
    const error = await embedder()
      .embed(['x'])
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'provider_error',
      status: 413,
      providerMessage: 'Input validation error: batch too large',
    });
    expect(requests).toHaveLength(1);
  });

  it.each([
    ['not JSON', (response: ServerResponse) => response.writeHead(200).end('<html>proxy</html>')],
    ['no data', (response: ServerResponse) => json(response, 200, { object: 'list' })],
    [
      'too few embeddings',
      (response: ServerResponse) =>
        json(response, 200, { data: [{ index: 0, embedding: [1, 2, 3] }] }),
    ],
    [
      'a string embedding',
      (response: ServerResponse) =>
        json(response, 200, {
          data: [
            { index: 0, embedding: 'AAAA' },
            { index: 1, embedding: [1, 2, 3] },
          ],
        }),
    ],
    [
      'a non-finite value',
      (response: ServerResponse) =>
        json(response, 200, {
          data: [
            { index: 0, embedding: [1, null, 3] },
            { index: 1, embedding: [1, 2, 3] },
          ],
        }),
    ],
    [
      'wrong dimensions',
      (response: ServerResponse) =>
        json(response, 200, {
          data: [
            { index: 0, embedding: [1, 2] },
            { index: 1, embedding: [1, 2] },
          ],
        }),
    ],
    [
      'a repeated index',
      (response: ServerResponse) =>
        json(response, 200, {
          data: [
            { index: 0, embedding: [1, 2, 3] },
            { index: 0, embedding: [1, 2, 3] },
          ],
        }),
    ],
  ])('rejects a malformed response (%s) without retrying', async (_name, respond) => {
    responders = [(_request, response) => respond(response)];
    const error = await embedder({ dimensions: 3 })
      .embed(['a', 'b'])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EmbeddingProviderError);
    expect(error).toMatchObject({ code: 'invalid_response' });
    expect(requests).toHaveLength(1);
  });

  it('times out a provider that does not answer, retrying, then reports it unavailable', async () => {
    responders = Array.from({ length: 2 }, () => () => undefined);
    const error = await embedder({ timeoutMs: 100, maxRetries: 1 })
      .embed(['x'])
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'unavailable' });
    expect(requests).toHaveLength(2);
  });

  it('reports a refused connection as unavailable', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const provider = createOpenAiCompatibleEmbedder({
      baseUrl: `http://127.0.0.1:${port}`,
      model: 'm',
      maxRetries: 1,
      retryBaseDelayMs: 1,
    });
    await expect(provider.embed(['x'])).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('stops waiting between retries when the caller aborts', async () => {
    responders = [
      (_request, response) =>
        json(response, 503, { error: { message: 'loading' } }, { 'retry-after': '30' }),
    ];
    const controller = new AbortController();
    const pending = embedder().embed(['x'], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 100);
    await expect(pending).rejects.toThrow('caller gave up');
  });
});
