import {
  composeExtractiveAnswer,
  type AnswerCitation,
  type AnswerSource,
} from './extractive-answer.ts';

/** An answer and the stored spans its `[n]` markers cite. */
export interface ComposedAnswer {
  answer: string | null;
  citations: AnswerCitation[];
  /** Which provider composed it (`extractive` when a generator's answer was unusable). */
  composedBy: string;
}

/**
 * Composes an answer from retrieved passages. Whatever composes it, every sentence of the
 * answer carries a `[n]` marker, and every citation is the exact stored span it names.
 */
export interface AnswerProvider {
  readonly id: string;
  compose(
    question: string,
    sources: readonly AnswerSource[],
    options: { sentences: number; signal?: AbortSignal },
  ): Promise<ComposedAnswer>;
}

/** The offline default: the passages' best sentences, each with its citation. */
export function createExtractiveAnswerProvider(): AnswerProvider {
  return {
    id: 'extractive',
    compose(question, sources, options) {
      return Promise.resolve({
        ...composeExtractiveAnswer(question, [...sources], { sentences: options.sentences }),
        composedBy: 'extractive',
      });
    },
  };
}

export interface OpenAiCompatibleAnswerOptions {
  /** The server's root; requests go to `{baseUrl}/v1/chat/completions`. */
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  /** Default 30 s. */
  timeoutMs?: number;
  /** Logs why a generated answer was not used (no secrets, no passage text). */
  onFallback?: (reason: string) => void;
}

const INSTRUCTIONS = [
  'You answer questions using only the numbered passages given.',
  'End every sentence with the marker of each passage it relies on, like [1] or [2][3].',
  'Never state anything the passages do not support; if they do not answer the question,',
  'say so in one sentence without a marker.',
].join(' ');

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * A generated answer through any server that speaks OpenAI's chat completions (vLLM, TGI,
 * Ollama, OpenAI). The model sees the question and the numbered passages — the redacted,
 * stored text the caller may read — and must cite with `[n]`. Its answer is then checked:
 * a sentence without a marker naming a passage given is dropped, and markers are mapped to
 * the passages' stored spans. When nothing cited is left, or the server fails, the answer
 * is the extractive one.
 */
export function createOpenAiCompatibleAnswerProvider(
  options: OpenAiCompatibleAnswerOptions,
): AnswerProvider {
  const endpoint = `${options.baseUrl.replace(/\/+$/, '')}/v1/chat/completions`;
  const extractive = createExtractiveAnswerProvider();
  return {
    id: 'openai-compatible',
    async compose(question, sources, composeOptions) {
      if (sources.length === 0) return extractive.compose(question, sources, composeOptions);
      let content: string;
      try {
        content = await complete({ endpoint, options }, question, sources, composeOptions.signal);
      } catch (error) {
        options.onFallback?.(`the answer provider failed: ${(error as Error).message}`);
        return extractive.compose(question, sources, composeOptions);
      }
      const cited = citedSentences(content, sources);
      if (cited.answer === null) {
        options.onFallback?.('the generated answer cited no passage it was given');
        return extractive.compose(question, sources, composeOptions);
      }
      return { ...cited, composedBy: 'openai-compatible' };
    },
  };
}

/** One chat completion: the instructions, the numbered passages and the question. */
async function complete(
  server: { endpoint: string; options: OpenAiCompatibleAnswerOptions },
  question: string,
  sources: readonly AnswerSource[],
  signal: AbortSignal | undefined,
): Promise<string> {
  const { endpoint, options } = server;
  const passages = sources
    .map((source, index) => `[${String(index + 1)}] ${source.citation.title}\n${source.text}`)
    .join('\n\n');
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    },
    body: JSON.stringify({
      model: options.model,
      temperature: 0,
      messages: [
        { role: 'system', content: INSTRUCTIONS },
        { role: 'user', content: `Passages:\n\n${passages}\n\nQuestion: ${question}` },
      ],
    }),
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  if (!response.ok) throw new Error(`status ${String(response.status)}`);
  const body = (await response.json()) as {
    choices?: Array<{ message?: { content?: unknown } }>;
  };
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new Error('no message content in the response');
  return content;
}

/** The sentences of `content` that cite given passages, and those passages' spans. */
function citedSentences(
  content: string,
  sources: readonly AnswerSource[],
): { answer: string | null; citations: AnswerCitation[] } {
  const used = new Map<number, AnswerCitation>();
  const kept: string[] = [];
  for (const { segment } of segmenter.segment(content.trim())) {
    const markers = [...segment.matchAll(/\[(\d{1,3})\]/g)]
      .map((match) => Number(match[1]))
      .filter((marker) => marker >= 1 && marker <= sources.length);
    if (markers.length === 0) continue;
    // Markers naming no given passage are removed; the valid ones stay.
    const sentence = segment
      .replace(/\[(\d{1,3})\]/g, (whole, digits: string) =>
        Number(digits) >= 1 && Number(digits) <= sources.length ? whole : '',
      )
      .trim();
    kept.push(sentence);
    for (const marker of markers) {
      const source = sources[marker - 1];
      if (!source || used.has(marker)) continue;
      used.set(marker, {
        marker,
        documentId: source.citation.documentId,
        version: source.citation.version,
        title: source.citation.title,
        chunkId: source.chunkId,
        start: source.citation.start,
        end: source.citation.end,
        text: source.text,
      });
    }
  }
  return {
    answer: kept.length > 0 ? kept.join(' ') : null,
    citations: [...used.values()].sort((a, b) => a.marker - b.marker),
  };
}
