import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAiCompatibleAnswerProvider } from '../src/answers/answer-provider.ts';
import type { AnswerSource } from '../src/answers/extractive-answer.ts';

/** What the chat double answers next: a status and the message content. */
let reply: { status: number; content: string } = { status: 200, content: '' };
const requests: Array<{ authorization: string | undefined; body: Record<string, unknown> }> = [];
let server: Server;
let baseUrl: string;

/**
 * A test double of an OpenAI-compatible chat completions server (no language model runs
 * here): it records each request and answers the content the test sets.
 */
beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        authorization: request.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: reply.content } }],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => {
  server.close();
});

const sources: AnswerSource[] = [
  {
    chunkId: 'chunk-refunds',
    text: 'Refunds are paid within seven days of the claim.',
    citation: { documentId: 'doc-1', version: 2, title: 'Refunds', start: 10, end: 59 },
  },
  {
    chunkId: 'chunk-meals',
    text: 'Meal allowances are 60 euros per day on business trips.',
    citation: { documentId: 'doc-2', version: 1, title: 'Meals', start: 0, end: 55 },
  },
];

describe('OpenAI-compatible answer provider (against a chat completions protocol double)', () => {
  it('keeps the cited sentences, maps markers to the passages’ stored spans', async () => {
    reply = {
      status: 200,
      content:
        'Meals are covered at 60 euros a day [2]. The moon is made of cheese. Refunds arrive within a week [1][7].',
    };
    const provider = createOpenAiCompatibleAnswerProvider({
      baseUrl,
      model: 'small-chat',
      apiKey: 'sk-answers',
    });
    const composed = await provider.compose('What do meals and refunds look like?', sources, {
      sentences: 3,
    });
    expect(composed.composedBy).toBe('openai-compatible');
    expect(composed.answer).toBe(
      'Meals are covered at 60 euros a day [2]. Refunds arrive within a week [1].',
    );
    expect(composed.citations).toEqual([
      expect.objectContaining({ marker: 1, documentId: 'doc-1', version: 2, start: 10, end: 59 }),
      expect.objectContaining({ marker: 2, documentId: 'doc-2', version: 1, start: 0, end: 55 }),
    ]);

    const request = requests.at(-1);
    expect(request?.authorization).toBe('Bearer sk-answers');
    expect(request?.body).toMatchObject({ model: 'small-chat', temperature: 0 });
    const messages = request?.body.messages as Array<{ role: string; content: string }>;
    expect(messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(messages[1]?.content).toContain('[2] Meals\nMeal allowances are 60 euros');
    expect(messages[1]?.content).toContain('Question: What do meals and refunds look like?');
  });

  it('answers extractively when the generated answer cites nothing it was given', async () => {
    reply = { status: 200, content: 'Meals are free [9]. Everything is fine.' };
    const reasons: string[] = [];
    const provider = createOpenAiCompatibleAnswerProvider({
      baseUrl,
      model: 'small-chat',
      onFallback: (reason) => reasons.push(reason),
    });
    const composed = await provider.compose('How much is the meal allowance?', sources, {
      sentences: 1,
    });
    expect(composed.composedBy).toBe('extractive');
    expect(composed.answer).toContain('60 euros');
    expect(composed.citations[0]?.documentId).toBe('doc-2');
    expect(reasons).toEqual(['the generated answer cited no passage it was given']);
  });

  it('answers extractively when the server fails', async () => {
    reply = { status: 503, content: '' };
    const reasons: string[] = [];
    const provider = createOpenAiCompatibleAnswerProvider({
      baseUrl,
      model: 'small-chat',
      onFallback: (reason) => reasons.push(reason),
    });
    const composed = await provider.compose('How much is the meal allowance?', sources, {
      sentences: 1,
    });
    expect(composed.composedBy).toBe('extractive');
    expect(reasons[0]).toMatch(/status 503/);
  });
});
