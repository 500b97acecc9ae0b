import { PDFDocument, StandardFonts } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { DocumentParseError, parseDocument } from '../src/parsing/index.ts';
import { type Block, type ParsedDocument } from '../src/parsing/parsed-document.ts';

const blockTexts = (document: ParsedDocument): Array<[Block['kind'], string]> =>
  document.blocks.map((block) => [block.kind, document.text.slice(block.start, block.end)]);

/** Every block's span lies in the text, in order, without overlap. */
function expectExactSpans(document: ParsedDocument): void {
  let previousEnd = 0;
  for (const block of document.blocks) {
    expect(block.start).toBeGreaterThanOrEqual(previousEnd);
    expect(block.end).toBeGreaterThan(block.start);
    expect(document.text.slice(block.start, block.end).trim()).not.toBe('');
    previousEnd = block.end;
  }
  expect(previousEnd).toBe(document.text.length);
}

async function twoPagePdf(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const pages = [
    ['Citadel library handbook.', 'Page one explains ingestion.'],
    ['Page two explains retrieval.'],
  ];
  for (const lines of pages) {
    const page = pdf.addPage([400, 400]);
    lines.forEach((line, index) =>
      page.drawText(line, { x: 40, y: 340 - index * 20, size: 12, font }),
    );
  }
  pdf.setTitle('Library Handbook');
  pdf.setLanguage('en-GB');
  return pdf.save();
}

describe('parseDocument: plain text', () => {
  it('splits paragraphs on blank lines, keeps line breaks inside one, normalises CRLF', async () => {
    const document = await parseDocument({
      text: 'First line\r\nsecond line\r\n\r\n  \r\nSecond paragraph.  \n',
      mediaType: 'text/plain; charset=utf-8',
    });
    expect(document.text).toBe('First line\nsecond line\n\nSecond paragraph.');
    expect(blockTexts(document)).toEqual([
      ['paragraph', 'First line\nsecond line'],
      ['paragraph', 'Second paragraph.'],
    ]);
    expect(document.metadata).toEqual({ mediaType: 'text/plain', byteLength: 51 });
    expectExactSpans(document);
  });

  it('decodes bytes as strict UTF-8 and drops a byte-order mark', async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('Grüße')]);
    const document = await parseDocument({ bytes, mediaType: 'text/plain' });
    expect(document.text).toBe('Grüße');
    expect(document.metadata.byteLength).toBe(bytes.byteLength);
  });
});

describe('parseDocument: Markdown', () => {
  const markdown = [
    '# Guide &amp; Intro',
    '',
    'Hello **world**, see [the docs](https://example.com) and `a &lt; b`.',
    '',
    '## Lists',
    '',
    '- one',
    '- two',
    '  - nested',
    '',
    '1. first',
    '',
    '> quoted *text*',
    '',
    '```ts title="x.ts"',
    'const x = 1;',
    '  return x;',
    '```',
    '',
    '| name | value |',
    '|------|-------|',
    '| a    | 1     |',
    '',
    '<div><p>raw html</p><script>alert(1)</script></div>',
    '',
  ].join('\n');

  it('reads headings, paragraphs, nested lists, quotes, code with its language, tables and raw HTML', async () => {
    const document = await parseDocument({ text: markdown, mediaType: 'text/markdown' });
    expect(blockTexts(document)).toEqual([
      ['heading', 'Guide & Intro'],
      ['paragraph', 'Hello world, see the docs and a < b.'],
      ['heading', 'Lists'],
      ['list-item', 'one'],
      ['list-item', 'two'],
      ['list-item', 'nested'],
      ['list-item', 'first'],
      ['quote', 'quoted text'],
      ['code', 'const x = 1;\n  return x;'],
      ['table-row', 'name | value'],
      ['table-row', 'a | 1'],
      ['paragraph', 'raw html'],
    ]);
    expect(document.title).toBe('Guide & Intro');
    expect(document.blocks[0]).toMatchObject({ kind: 'heading', level: 1 });
    expect(document.blocks[2]).toMatchObject({ kind: 'heading', level: 2 });
    expect(document.blocks[5]).toMatchObject({ kind: 'list-item', depth: 1, ordered: false });
    expect(document.blocks[6]).toMatchObject({ kind: 'list-item', depth: 0, ordered: true });
    expect(document.blocks[8]).toMatchObject({ kind: 'code', language: 'ts' });
    expect(document.blocks[9]).toMatchObject({ kind: 'table-row', header: true });
    expectExactSpans(document);
  });

  it('accepts the text/x-markdown alias', async () => {
    const document = await parseDocument({ text: 'Just text.', mediaType: 'text/x-markdown' });
    expect(document.metadata.mediaType).toBe('text/markdown');
  });
});

describe('parseDocument: HTML', () => {
  const html = `<!doctype html><html lang="en"><head><title> The  Title </title>
    <style>body { color: red }</style><script>var secret = 1;</script></head>
    <body><nav><a href="/">Home</a></nav>
    <h2>Section</h2><p>Para &amp; <b>bold</b>
      text</p>
    <ol><li>a<ul><li>b</li></ul></li></ol>
    <pre><code class="language-python">def f():
    return 1
</code></pre>
    <table><tr><th>x</th><th>y</th></tr><tr><td>1</td><td>2</td></tr></table>
    <blockquote><p>q1</p><p>q2</p></blockquote>
    <div>loose <span>inline</span> text<p>inner</p>tail</div></body></html>`;

  it('keeps the structure, drops scripts, styles and navigation, collapses whitespace outside <pre>', async () => {
    const document = await parseDocument({ text: html, mediaType: 'text/html; charset=utf-8' });
    expect(blockTexts(document)).toEqual([
      ['heading', 'Section'],
      ['paragraph', 'Para & bold text'],
      ['list-item', 'a'],
      ['list-item', 'b'],
      ['code', 'def f():\n    return 1'],
      ['table-row', 'x | y'],
      ['table-row', '1 | 2'],
      ['quote', 'q1'],
      ['quote', 'q2'],
      ['paragraph', 'loose inline text'],
      ['paragraph', 'inner'],
      ['paragraph', 'tail'],
    ]);
    expect(document.blocks[2]).toMatchObject({ ordered: true, depth: 0 });
    expect(document.blocks[3]).toMatchObject({ ordered: false, depth: 1 });
    expect(document.blocks[4]).toMatchObject({ language: 'python' });
    expect(document.blocks[5]).toMatchObject({ header: true });
    expect(document.blocks[6]).toMatchObject({ header: false });
    expect(document.title).toBe('The Title');
    expect(document.metadata.language).toBe('en');
    expect(document.text).not.toMatch(/secret|color|Home/);
    expectExactSpans(document);
  });
});

describe('parseDocument: PDF', () => {
  it('reads the text of each page with page numbers, the title and the language', async () => {
    const document = await parseDocument({
      bytes: await twoPagePdf(),
      mediaType: 'application/pdf',
    });
    expect(blockTexts(document)).toEqual([
      ['paragraph', 'Citadel library handbook. Page one explains ingestion.'],
      ['paragraph', 'Page two explains retrieval.'],
    ]);
    expect(document.blocks.map((block) => block.page)).toEqual([1, 2]);
    expect(document.title).toBe('Library Handbook');
    expect(document.metadata).toMatchObject({
      mediaType: 'application/pdf',
      pageCount: 2,
      language: 'en-GB',
    });
    expectExactSpans(document);
  });

  it('refuses bytes that are not a PDF as unreadable', async () => {
    const error = await parseDocument({
      bytes: new TextEncoder().encode('%PDF-1.7 nonsense'),
      mediaType: 'application/pdf',
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DocumentParseError);
    expect(error).toMatchObject({ code: 'unreadable_document', status: 422 });
  });
});

describe('parseDocument: refusals', () => {
  it.each([
    [{ text: 'x', mediaType: 'image/png' }, {}, 'unsupported_media_type', 415],
    [
      { text: 'x'.repeat(11), mediaType: 'text/plain' },
      { maxBytes: 10 },
      'document_too_large',
      413,
    ],
    [{ text: 'é'.repeat(6), mediaType: 'text/plain' }, { maxBytes: 11 }, 'document_too_large', 413],
    [{ text: '  \n\n\t ', mediaType: 'text/plain' }, {}, 'unreadable_document', 422],
    [{ text: '<script>only()</script>', mediaType: 'text/html' }, {}, 'unreadable_document', 422],
    [
      { bytes: new Uint8Array([0xff, 0xfe, 0x41]), mediaType: 'text/plain' },
      {},
      'unreadable_document',
      422,
    ],
    [{ text: 'not bytes', mediaType: 'application/pdf' }, {}, 'unreadable_document', 422],
  ] as const)('%j %j → %s (%i)', async (input, options, code, status) => {
    const error = await parseDocument(input, options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DocumentParseError);
    expect(error).toMatchObject({ code, status });
  });

  it('accepts a document of exactly the limit', async () => {
    await expect(
      parseDocument({ text: 'x'.repeat(10), mediaType: 'text/plain' }, { maxBytes: 10 }),
    ).resolves.toMatchObject({
      text: 'x'.repeat(10),
    });
  });
});
