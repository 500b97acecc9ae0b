import { describe, expect, it } from 'vitest';
import {
  type Chunk,
  chunkDocument,
  createApproximateTokenizer,
  createCl100kTokenizer,
  type Tokenizer,
} from '../src/chunking/index.ts';
import { parseDocument } from '../src/parsing/index.ts';
import { type ParsedDocument } from '../src/parsing/parsed-document.ts';

const approximate = createApproximateTokenizer();
const cl100k = createCl100kTokenizer();

const markdown = (text: string): Promise<ParsedDocument> =>
  parseDocument({ text, mediaType: 'text/markdown' });

/** A sentence of about twelve tokens, numbered so every one is distinct. */
const sentence = (index: number): string =>
  `Sentence ${index} describes how the library ingests documents.`;
const paragraph = (from: number, count: number): string =>
  Array.from({ length: count }, (_, offset) => sentence(from + offset)).join(' ');

/** The headings above `position`, as the document's blocks say (independently of the chunker). */
function headingPathAt(document: ParsedDocument, position: number): string[] {
  const path: Array<{ level: number; text: string }> = [];
  for (const block of document.blocks) {
    if (block.start >= position) break;
    if (block.kind !== 'heading') continue;
    while ((path.at(-1)?.level ?? 0) >= block.level) path.pop();
    path.push({ level: block.level, text: document.text.slice(block.start, block.end) });
  }
  return path.map((heading) => heading.text);
}

function consecutivePairs(chunks: Chunk[]): Array<[Chunk, Chunk]> {
  const pairs: Array<[Chunk, Chunk]> = [];
  chunks.forEach((chunk, index) => {
    const previous = chunks[index - 1];
    if (previous) pairs.push([previous, chunk]);
  });
  return pairs;
}

/** The invariants every chunking must keep. */
function expectChunkInvariants(
  document: ParsedDocument,
  chunks: Chunk[],
  options: { maxTokens: number; overlapTokens: number; tokenizer: Tokenizer },
): void {
  expect(chunks.length).toBeGreaterThan(0);
  const covered = new Uint8Array(document.text.length);
  chunks.forEach((chunk, index) => {
    expect(chunk.index).toBe(index);
    expect(chunk.text).toBe(document.text.slice(chunk.start, chunk.end));
    // Code keeps its indentation, so only a chunk's end is always trimmed.
    expect(chunk.text).toBe(chunk.text.trimEnd());
    expect(chunk.text).not.toMatch(/^\s*\n/);
    expect(chunk.tokenCount).toBe(options.tokenizer.count(chunk.text));
    expect(chunk.tokenCount).toBeLessThanOrEqual(options.maxTokens);
    expect(chunk.headingPath).toEqual(headingPathAt(document, chunk.end));
    covered.fill(1, chunk.start, chunk.end);
    const previous = chunks[index - 1];
    if (!previous) return;
    expect(chunk.start).toBeGreaterThan(previous.start);
    expect(chunk.end).toBeGreaterThan(previous.end);
    if (chunk.start < previous.end) {
      expect(
        options.tokenizer.count(document.text.slice(chunk.start, previous.end)),
      ).toBeLessThanOrEqual(options.overlapTokens);
    }
  });
  for (const block of document.blocks) {
    expect(
      covered
        .subarray(block.start, block.end)
        .every(
          (value, offset) => value === 1 || /\s/.test(document.text.charAt(block.start + offset)),
        ),
    ).toBe(true);
  }
}

describe('chunkDocument: structure', () => {
  it('returns one chunk for a short document, with the heading path', async () => {
    const document = await markdown('# Guide\n\n## Setup\n\nInstall it. Run it.');
    const chunks = chunkDocument(document);
    const text = 'Guide\n\nSetup\n\nInstall it. Run it.';
    expect(chunks).toEqual([
      {
        index: 0,
        text,
        start: 0,
        end: text.length,
        headingPath: ['Guide', 'Setup'],
        tokenCount: cl100k.count(text),
      },
    ]);
  });

  it('starts each section with its heading and carries the heading path into every chunk of it', async () => {
    const text = `# Guide\n\n## Install\n\n${paragraph(0, 30)}\n\n## Operate\n\n${paragraph(100, 3)}\n\n### Backups\n\n${paragraph(200, 2)}`;
    const document = await markdown(text);
    const chunks = chunkDocument(document, {
      maxTokens: 100,
      overlapTokens: 20,
      tokenizer: cl100k,
    });
    const paths = chunks.map((chunk) => chunk.headingPath);
    expect(paths.length).toBeGreaterThan(3);
    expect(paths.slice(0, -2).every((path) => path.join('/') === 'Guide/Install')).toBe(true);
    expect(paths.slice(-2)).toEqual([
      ['Guide', 'Operate'],
      ['Guide', 'Operate', 'Backups'],
    ]);
    expect(chunks[0]?.text.startsWith('Guide\n\nInstall\n\nSentence 0 ')).toBe(true);
    expect(chunks.at(-2)?.text).toBe(`Operate\n\n${paragraph(100, 3)}`);
    expect(chunks.at(-1)?.text).toBe(`Backups\n\n${paragraph(200, 2)}`);
    expectChunkInvariants(document, chunks, {
      maxTokens: 100,
      overlapTokens: 20,
      tokenizer: cl100k,
    });
  });

  it('ends chunks between paragraphs when the next paragraph fits a chunk of its own', async () => {
    const document = await markdown(
      [paragraph(0, 5), paragraph(10, 5), paragraph(20, 5)].join('\n\n'),
    );
    const chunks = chunkDocument(document, { maxTokens: 130, overlapTokens: 0, tokenizer: cl100k });
    expect(chunks.map((chunk) => chunk.text)).toEqual([
      `${paragraph(0, 5)}\n\n${paragraph(10, 5)}`,
      paragraph(20, 5),
    ]);
  });

  it('cuts a paragraph too long for one chunk between sentences, with overlap of whole sentences', async () => {
    const document = await markdown(paragraph(0, 40));
    const chunks = chunkDocument(document, { maxTokens: 80, overlapTokens: 30, tokenizer: cl100k });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.text).toMatch(/^Sentence \d+ .*documents\.$/s);
    }
    for (const [previous, next] of consecutivePairs(chunks)) {
      const overlap = document.text.slice(next.start, previous.end);
      expect(overlap).toMatch(/^Sentence \d+ /);
      expect(cl100k.count(overlap)).toBeLessThanOrEqual(30);
      expect(cl100k.count(overlap)).toBeGreaterThan(10);
    }
    expectChunkInvariants(document, chunks, {
      maxTokens: 80,
      overlapTokens: 30,
      tokenizer: cl100k,
    });
  });

  it('takes overlap at word boundaries when no whole sentence fits it', async () => {
    const long = Array.from({ length: 300 }, (_, index) => `word${index}`).join(' ');
    const document = await markdown(long);
    const chunks = chunkDocument(document, { maxTokens: 60, overlapTokens: 10, tokenizer: cl100k });
    for (const chunk of chunks) expect(chunk.text).toMatch(/^word\d+( word\d+)*$/);
    expect(chunks[1]?.start).toBeLessThan(chunks[0]?.end ?? 0);
    expectChunkInvariants(document, chunks, {
      maxTokens: 60,
      overlapTokens: 10,
      tokenizer: cl100k,
    });
  });

  it('never cuts inside a code block that fits, and carries no overlap out of code', async () => {
    const code = Array.from(
      { length: 12 },
      (_, index) => `const value${index} = compute(${index});`,
    ).join('\n');
    const document = await markdown(
      `${paragraph(0, 6)}\n\n\`\`\`ts\n${code}\n\`\`\`\n\n${paragraph(50, 6)}`,
    );
    const chunks = chunkDocument(document, {
      maxTokens: 130,
      overlapTokens: 20,
      tokenizer: cl100k,
    });
    const codeBlock = document.blocks.find((block) => block.kind === 'code');
    const holding = chunks.filter(
      (chunk) => chunk.start <= (codeBlock?.start ?? -1) && chunk.end >= (codeBlock?.end ?? -1),
    );
    expect(holding).toHaveLength(1);
    for (const chunk of chunks) {
      const cutsInside = (position: number): boolean =>
        position > (codeBlock?.start ?? 0) && position < (codeBlock?.end ?? 0);
      expect(cutsInside(chunk.start) || cutsInside(chunk.end)).toBe(false);
    }
    expectChunkInvariants(document, chunks, {
      maxTokens: 130,
      overlapTokens: 20,
      tokenizer: cl100k,
    });
  });

  it('cuts a code block larger than a chunk only between lines', async () => {
    const lines = Array.from({ length: 80 }, (_, index) => `  call(${index}, "argument");`);
    const document = await markdown(`# Code\n\n\`\`\`js\n${lines.join('\n')}\n\`\`\``);
    const chunks = chunkDocument(document, {
      maxTokens: 100,
      overlapTokens: 20,
      tokenizer: cl100k,
    });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(
        chunk.text
          .replace(/^Code\n\n/, '')
          .split('\n')
          .every((line) => /^\s*call\(\d+, "argument"\);$/.test(line)),
      ).toBe(true);
      expect(chunk.headingPath).toEqual(['Code']);
    }
    for (const [previous, next] of consecutivePairs(chunks)) {
      expect(next.start).toBeGreaterThan(previous.end);
    }
    expectChunkInvariants(document, chunks, {
      maxTokens: 100,
      overlapTokens: 20,
      tokenizer: cl100k,
    });
  });

  it('keeps a list in one chunk when it fits one, moving it whole to the next chunk', async () => {
    const items = Array.from({ length: 6 }, (_, index) => `- ${sentence(index)}`).join('\n');
    const document = await markdown(`${paragraph(100, 5)}\n\n${items}`);
    const chunks = chunkDocument(document, { maxTokens: 100, overlapTokens: 0, tokenizer: cl100k });
    expect(chunks.map((chunk) => chunk.text)).toEqual([
      paragraph(100, 5),
      Array.from({ length: 6 }, (_, index) => sentence(index)).join('\n\n'),
    ]);
  });

  it('cuts a word longer than a chunk by characters, never through a surrogate pair', async () => {
    const document = await markdown('😀'.repeat(400));
    const chunks = chunkDocument(document, { maxTokens: 50, overlapTokens: 0, tokenizer: cl100k });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.text).toMatch(/^(?:😀)+$/u);
    expectChunkInvariants(document, chunks, { maxTokens: 50, overlapTokens: 0, tokenizer: cl100k });
  });

  it('refuses options that cannot work', async () => {
    const document = await markdown('Text.');
    expect(() => chunkDocument(document, { maxTokens: 0 })).toThrow(RangeError);
    expect(() => chunkDocument(document, { maxTokens: 10, overlapTokens: 10 })).toThrow(RangeError);
    expect(() => chunkDocument(document, { overlapTokens: -1 })).toThrow(RangeError);
  });
});

/** A small deterministic generator (mulberry32), so a failing document can be reproduced from its seed. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value ^= value + Math.imul(value ^ (value >>> 7), 61 | value);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'tenant',
  'ledger',
  'chunk',
  'über',
  'naïve',
  'retrieval',
  'a',
  'of',
  'PII',
  'x'.repeat(40),
  '日本語',
  'emoji😀',
  'v1.2',
];

function generatedMarkdown(seed: number): string {
  const random = randomSource(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const words = (count: number): string =>
    Array.from({ length: count }, () => pick(WORDS)).join(' ');
  const sentences = (count: number): string =>
    Array.from(
      { length: count },
      () => `${words(1 + Math.floor(random() * 25))}${pick(['.', '!', '?', '.'])}`,
    ).join(' ');
  const parts: string[] = [];
  const blockCount = 1 + Math.floor(random() * 25);
  for (let index = 0; index < blockCount; index += 1) {
    const kind = random();
    if (kind < 0.15)
      parts.push(
        `${'#'.repeat(1 + Math.floor(random() * 4))} ${words(1 + Math.floor(random() * 5))}`,
      );
    else if (kind < 0.55) parts.push(sentences(1 + Math.floor(random() * 30)));
    else if (kind < 0.7)
      parts.push(
        Array.from(
          { length: 1 + Math.floor(random() * 8) },
          () => `- ${sentences(1 + Math.floor(random() * 4))}`,
        ).join('\n'),
      );
    else if (kind < 0.85)
      parts.push(
        `\`\`\`\n${Array.from({ length: 1 + Math.floor(random() * 40) }, () => `${'  '.repeat(Math.floor(random() * 3))}${words(1 + Math.floor(random() * 12))}`).join('\n')}\n\`\`\``,
      );
    else if (kind < 0.93) parts.push(`> ${sentences(1 + Math.floor(random() * 6))}`);
    else
      parts.push(
        `| a | b |\n|---|---|\n${Array.from({ length: 1 + Math.floor(random() * 6) }, () => `| ${words(3)} | ${words(2)} |`).join('\n')}`,
      );
  }
  return parts.join('\n\n');
}

describe('chunkDocument: exact spans over generated documents', () => {
  it.each([
    {
      name: 'approximate',
      tokenizer: approximate,
      documents: 150,
      maxTokens: 60,
      overlapTokens: 20,
    },
    { name: 'cl100k_base', tokenizer: cl100k, documents: 20, maxTokens: 80, overlapTokens: 15 },
  ])(
    'holds every invariant ($name tokenizer, $documents documents)',
    async ({ tokenizer, documents, ...limits }) => {
      for (let seed = 1; seed <= documents; seed += 1) {
        const document = await markdown(generatedMarkdown(seed));
        const options = { ...limits, tokenizer };
        try {
          expectChunkInvariants(document, chunkDocument(document, options), options);
        } catch (error) {
          throw new Error(`seed ${seed}: ${String(error)}`, { cause: error });
        }
      }
    },
  );

  it('holds them on HTML and plain text documents too', async () => {
    const html = await parseDocument({
      text: `<h1>T</h1><p>${paragraph(0, 30)}</p><ul><li>${paragraph(40, 2)}</li><li>b</li></ul><pre>${'line\n'.repeat(200)}</pre>`,
      mediaType: 'text/html',
    });
    const plain = await parseDocument({
      text: `${paragraph(0, 50)}\n\n${paragraph(60, 3)}`,
      mediaType: 'text/plain',
    });
    for (const document of [html, plain]) {
      const options = { maxTokens: 64, overlapTokens: 16, tokenizer: cl100k };
      expectChunkInvariants(document, chunkDocument(document, options), options);
    }
  });
});

describe('tokenizers', () => {
  it('counts cl100k_base tokens from the ranks shipped in the package', () => {
    expect(cl100k.id).toBe('cl100k_base');
    expect(cl100k.count('hello world')).toBe(2);
    expect(cl100k.count('')).toBe(0);
    expect(cl100k.count('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('estimates English prose within 25% of cl100k_base', () => {
    const prose = paragraph(0, 50);
    const exact = cl100k.count(prose);
    expect(Math.abs(approximate.count(prose) - exact) / exact).toBeLessThan(0.25);
    expect(approximate.id).toBe('approximate');
    expect(approximate.count('')).toBe(0);
  });
});
