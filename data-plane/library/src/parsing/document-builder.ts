import { type Block, type ParsedDocument, type ParsedDocumentMetadata } from './parsed-document.ts';

/** A block as a parser describes it: its kind and attributes, without a span. */
export type BlockDraft = WithoutSpan<Block>;

/** Distributes over the union, so each kind keeps its own attributes. */
type WithoutSpan<T> = T extends unknown ? Omit<T, 'start' | 'end'> : never;

/** Blocks are separated by a blank line, so the text reads as plain text. */
const BLOCK_SEPARATOR = '\n\n';

/**
 * Builds a {@link ParsedDocument} from blocks in reading order. Every parser goes through
 * it, so the spans are computed in one place and are exact by construction.
 */
export class DocumentBuilder {
  readonly #parts: string[] = [];
  readonly #blocks: Block[] = [];
  #length = 0;

  /** Appends a block; text that is blank once trimmed is skipped. */
  add(draft: BlockDraft, text: string): void {
    const content = draft.kind === 'code' ? trimBlankLines(text) : text.trim();
    if (content.trim() === '') return;
    if (this.#parts.length > 0) {
      this.#parts.push(BLOCK_SEPARATOR);
      this.#length += BLOCK_SEPARATOR.length;
    }
    const start = this.#length;
    this.#parts.push(content);
    this.#length += content.length;
    this.#blocks.push({ ...draft, start, end: this.#length });
  }

  get blockCount(): number {
    return this.#blocks.length;
  }

  build(metadata: ParsedDocumentMetadata, title?: string): ParsedDocument {
    const text = this.#parts.join('');
    const document: ParsedDocument = { text, blocks: this.#blocks, metadata };
    const cleanTitle = title?.replace(/\s+/g, ' ').trim();
    if (cleanTitle) document.title = cleanTitle;
    return document;
  }
}

/** Code keeps its indentation: only whole blank lines and trailing spaces are dropped. */
function trimBlankLines(text: string): string {
  return text.replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd();
}

/** Collapses runs of whitespace, as HTML and PDF text are read. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
