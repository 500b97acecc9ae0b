import { Parser } from 'htmlparser2';
import { type BlockDraft, collapseWhitespace, type DocumentBuilder } from './document-builder.ts';

/** Elements whose content is not part of the document's text. */
const SKIPPED_ELEMENTS = new Set([
  'script',
  'style',
  'nav',
  'noscript',
  'template',
  'svg',
  'iframe',
  'object',
  'canvas',
]);

/** Elements that end the text before them: a block of text never spans one of these. */
const BLOCK_ELEMENTS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'main',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'thead',
  'tfoot',
  'tr',
  'ul',
]);

interface HtmlParseResult {
  title?: string;
  language?: string;
}

/**
 * Reads HTML into blocks: headings, paragraphs, list items, `<pre>` code (language from a
 * `language-*` class), block quotes and table rows (cells joined with ` | `). Scripts,
 * styles and navigation are dropped; whitespace outside `<pre>` is collapsed.
 */
export function parseHtmlInto(builder: DocumentBuilder, html: string): HtmlParseResult {
  const collector = new HtmlBlockCollector(builder);
  const parser = new Parser(collector, { decodeEntities: true, lowerCaseTags: true });
  parser.write(html);
  parser.end();
  collector.flush();
  return collector.result();
}

/** An open element that decides the kind of the blocks inside it. */
interface BlockContext {
  tag: string;
  draft: BlockDraft;
}

class HtmlBlockCollector {
  readonly #builder: DocumentBuilder;
  readonly #contexts: BlockContext[] = [];
  readonly #lists: string[] = [];
  #buffer = '';
  #skipDepth = 0;
  #preDepth = 0;
  #inTitle = false;
  #title = '';
  #language: string | undefined;

  constructor(builder: DocumentBuilder) {
    this.#builder = builder;
  }

  onopentag(name: string, attributes: Record<string, string>): void {
    if (this.#skips(name, 1)) return;
    this.#openInline(name, attributes);
    if (!BLOCK_ELEMENTS.has(name)) return;
    this.flush();
    this.#openBlock(name, attributes);
  }

  ontext(text: string): void {
    if (this.#skipDepth > 0) return;
    if (this.#inTitle) this.#title += text;
    else this.#buffer += text;
  }

  onclosetag(name: string): void {
    if (this.#skips(name, -1)) return;
    if (name === 'title') this.#inTitle = false;
    if (!BLOCK_ELEMENTS.has(name)) return;
    this.flush();
    if (name === 'ul' || name === 'ol') this.#lists.pop();
    if (name === 'pre') this.#preDepth -= 1;
    if (this.#contexts.at(-1)?.tag === name) this.#contexts.pop();
  }

  /** Emits the text gathered since the last block boundary as one block. */
  flush(): void {
    const draft = this.#contexts.at(-1)?.draft ?? { kind: 'paragraph' };
    const text = this.#preDepth > 0 ? this.#buffer : collapseWhitespace(this.#buffer);
    this.#buffer = '';
    this.#builder.add(draft, text);
  }

  result(): HtmlParseResult {
    const result: HtmlParseResult = {};
    const title = collapseWhitespace(this.#title);
    if (title) result.title = title;
    if (this.#language) result.language = this.#language;
    return result;
  }

  /** Tracks skipped elements (`step` 1 on open, -1 on close); true while inside one. */
  #skips(name: string, step: 1 | -1): boolean {
    const skipped = SKIPPED_ELEMENTS.has(name);
    if (skipped && (step === 1 || this.#skipDepth > 0)) {
      this.#skipDepth += step;
      return true;
    }
    return this.#skipDepth > 0;
  }

  #openInline(name: string, attributes: Record<string, string>): void {
    if (name === 'html' && attributes.lang) this.#language = attributes.lang;
    if (name === 'title') this.#inTitle = true;
    if (name === 'br') this.#buffer += '\n';
    if (name === 'td' || name === 'th') this.#openCell(name);
    if (name === 'code') this.#setCodeLanguage(attributes.class);
  }

  #openBlock(name: string, attributes: Record<string, string>): void {
    if (name === 'ul' || name === 'ol') this.#lists.push(name);
    if (name === 'pre') this.#preDepth += 1;
    const draft = blockDraftFor(name, this.#lists, attributes);
    if (draft) this.#contexts.push({ tag: name, draft });
  }

  #openCell(name: string): void {
    const row = this.#contexts.at(-1)?.draft;
    if (row?.kind !== 'table-row') return;
    if (name === 'th') row.header = true;
    if (this.#buffer.trim() !== '') this.#buffer += ' | ';
  }

  #setCodeLanguage(className: string | undefined): void {
    const code = this.#contexts.at(-1)?.draft;
    const language = languageFromClass(className);
    if (code?.kind === 'code' && language && !code.language) code.language = language;
  }
}

function blockDraftFor(
  name: string,
  lists: readonly string[],
  attributes: Record<string, string>,
): BlockDraft | undefined {
  const heading = /^h([1-6])$/.exec(name);
  if (heading) return { kind: 'heading', level: Number(heading[1]) };
  switch (name) {
    case 'li':
      return {
        kind: 'list-item',
        ordered: lists.at(-1) === 'ol',
        depth: Math.max(0, lists.length - 1),
      };
    case 'pre': {
      const language = languageFromClass(attributes.class);
      return language ? { kind: 'code', language } : { kind: 'code' };
    }
    case 'blockquote':
      return { kind: 'quote' };
    case 'tr':
      return { kind: 'table-row', header: false };
    default:
      return undefined;
  }
}

/** `language-ts` or `lang-ts`, as Markdown renderers and highlighters write it. */
function languageFromClass(className: string | undefined): string | undefined {
  return /(?:^|\s)lang(?:uage)?-([\w+#.-]+)/.exec(className ?? '')?.[1];
}
