import { type ParsedDocument } from '../parsing/parsed-document.ts';
import { overlapStart } from './chunk-overlap.ts';
import { layoutPieces, type Piece, type PieceLayout } from './chunk-pieces.ts';
import { createCl100kTokenizer, type Tokenizer } from './tokenizer.ts';

/** A passage of a document, the unit that is embedded, searched and cited. */
export interface Chunk {
  /** 0-based position in the document's chunks. */
  index: number;
  /** Always `parsed.text.slice(start, end)`. */
  text: string;
  start: number;
  end: number;
  /** The headings the chunk sits under, outermost first. */
  headingPath: string[];
  /** The chunk's tokens counted by the chunker's tokenizer. */
  tokenCount: number;
}

export interface ChunkOptions {
  /** The most tokens a chunk holds (default 400); only a single piece that cannot be cut further exceeds it. */
  maxTokens?: number;
  /** Tokens of the previous chunk's tail repeated at the start of the next (default 50). */
  overlapTokens?: number;
  /** Default: `cl100k_base` ({@link createCl100kTokenizer}). */
  tokenizer?: Tokenizer;
}

/**
 * Cuts a parsed document into chunks that follow its structure:
 * - a heading starts a new chunk and its section's chunks carry its heading path;
 * - chunks end between blocks where they can, else between sentences (prose) or lines
 *   (code, only when the block alone exceeds `maxTokens`), else between words;
 * - a list or table is kept in one chunk when it fits one;
 * - a chunk that ends mid-section passes its tail (whole sentences, else whole words, at
 *   most `overlapTokens`) on to the next, never out of code, a table or a heading;
 * - every chunk is an exact span: `chunk.text === parsed.text.slice(chunk.start, chunk.end)`.
 */
export function chunkDocument(parsed: ParsedDocument, options: ChunkOptions = {}): Chunk[] {
  const maxTokens = options.maxTokens ?? 400;
  const overlapTokens = options.overlapTokens ?? 50;
  if (!Number.isInteger(maxTokens) || maxTokens < 1)
    throw new RangeError('maxTokens must be a positive integer.');
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens) {
    throw new RangeError('overlapTokens must be an integer from 0 to maxTokens - 1.');
  }
  const tokenizer = options.tokenizer ?? createCl100kTokenizer();
  const layout = layoutPieces(parsed.text, parsed.blocks, tokenizer, maxTokens);
  return new ChunkPacker({ text: parsed.text, layout, tokenizer, maxTokens, overlapTokens }).pack();
}

interface PackerSettings {
  text: string;
  layout: PieceLayout;
  tokenizer: Tokenizer;
  maxTokens: number;
  overlapTokens: number;
}

/** The chunk being filled: pieces `first..last` (inclusive), maybe preceded by overlap from `start`. */
interface OpenChunk {
  start: number;
  first: number;
  last: number;
  tokens: number;
  /** Whether a piece other than a heading is in (overlap does not count). */
  hasContent: boolean;
}

class ChunkPacker {
  readonly #settings: PackerSettings;
  readonly #chunks: Chunk[] = [];

  constructor(settings: PackerSettings) {
    this.#settings = settings;
  }

  pack(): Chunk[] {
    const { pieces } = this.#settings.layout;
    let open: OpenChunk | undefined;
    let index = 0;
    while (index < pieces.length) {
      const piece = this.#piece(index);
      if (open?.hasContent && piece.sectionStart) {
        index = this.#close(open);
        open = undefined;
        continue;
      }
      open ??= this.#open(index, undefined);
      if (open.hasContent && !this.#fits(open, index)) {
        index = this.#close(open);
        open = this.#open(index, this.#chunks.at(-1));
        continue;
      }
      this.#add(open, index);
      index += 1;
    }
    if (open) this.#close(open);
    return this.#chunks;
  }

  /** A segment's first piece brings the whole segment when that fits a chunk at all. */
  #fits(open: OpenChunk, index: number): boolean {
    const { layout, maxTokens } = this.#settings;
    const piece = this.#piece(index);
    const remaining = maxTokens - open.tokens;
    const segmentTokens = layout.segmentTokens[piece.segment] ?? piece.tokens;
    const startsSegment = layout.pieces[index - 1]?.segment !== piece.segment;
    if (startsSegment && segmentTokens <= maxTokens) return segmentTokens <= remaining;
    return piece.tokens <= remaining;
  }

  #add(open: OpenChunk, index: number): void {
    const piece = this.#piece(index);
    if (open.first === -1) open.first = index;
    open.last = index;
    open.tokens += piece.tokens;
    if (piece.kind !== 'heading') open.hasContent = true;
  }

  #open(index: number, previous: Chunk | undefined): OpenChunk {
    const open: OpenChunk = { start: -1, first: -1, last: -1, tokens: 0, hasContent: false };
    const overlap = previous ? this.#overlap(index, previous) : undefined;
    if (overlap) {
      open.start = overlap.start;
      open.tokens = overlap.tokens;
    }
    return open;
  }

  /** The previous chunk's tail, taken from the run of text pieces that ends it. */
  #overlap(index: number, previous: Chunk): { start: number; tokens: number } | undefined {
    const { text, layout, tokenizer, maxTokens, overlapTokens } = this.#settings;
    const next = this.#piece(index);
    if (next.sectionStart || layout.pieces[index - 1]?.kind !== 'text') return undefined;
    let regionFirst = index - 1;
    while (isTextWithin(layout.pieces[regionFirst - 1], previous)) regionFirst -= 1;
    const earliest = this.#piece(regionFirst);
    const segmentTokens = layout.segmentTokens[next.segment] ?? next.tokens;
    const needed = segmentTokens <= maxTokens ? segmentTokens : next.tokens;
    const allowance = Math.min(overlapTokens, maxTokens - needed - 1);
    const regionStart = Math.max(earliest.start, previous.start + 1);
    const start = overlapStart(
      text,
      { start: regionStart, end: previous.end },
      allowance,
      tokenizer,
    );
    if (start === undefined) return undefined;
    return { start, tokens: tokenizer.count(text.slice(start, previous.end)) + 1 };
  }

  /**
   * Emits the chunk, counting its tokens exactly; when the estimate was short, its last
   * pieces go back to the next chunk. Returns the index of the next piece to place.
   */
  #close(open: OpenChunk): number {
    const { text, tokenizer, maxTokens } = this.#settings;
    const startOf = (): number => (open.start === -1 ? this.#piece(open.first).start : open.start);
    let end = this.#piece(open.last).end;
    let tokenCount = tokenizer.count(text.slice(startOf(), end));
    while (tokenCount > maxTokens && open.last > this.#firstContent(open)) {
      open.last -= 1;
      end = this.#piece(open.last).end;
      tokenCount = tokenizer.count(text.slice(startOf(), end));
    }
    const start = startOf();
    const lastPiece = this.#piece(open.last);
    this.#chunks.push({
      index: this.#chunks.length,
      text: text.slice(start, end),
      start,
      end,
      headingPath: [...lastPiece.headingPath],
      tokenCount,
    });
    return open.last + 1;
  }

  #piece(index: number): Piece {
    const piece = this.#settings.layout.pieces[index];
    if (!piece) throw new RangeError(`No piece ${index}.`);
    return piece;
  }

  #firstContent(open: OpenChunk): number {
    const { pieces } = this.#settings.layout;
    let index = open.first;
    while (index < open.last && pieces[index]?.kind === 'heading') index += 1;
    return index;
  }
}

/** Whether `piece` is prose or a list item inside `chunk`, where overlap may be taken from. */
function isTextWithin(piece: Piece | undefined, chunk: Chunk): boolean {
  return piece?.kind === 'text' && piece.start >= chunk.start;
}
