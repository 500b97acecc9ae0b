import { type Block } from '../parsing/parsed-document.ts';
import { lineSpans, safeCut, sentenceSpans, type Span, wordSpans } from './text-boundaries.ts';
import { type Tokenizer } from './tokenizer.ts';

/**
 * What a piece is made of: overlap is only taken from `text` (prose and list items), never
 * from a heading, code or a table row.
 */
export type PieceKind = 'heading' | 'text' | 'code' | 'row';

/**
 * The smallest span the chunker places: a whole block when it fits, else a sentence, a
 * line of code or a run of words. A chunk ends only between pieces.
 */
export interface Piece extends Span {
  kind: PieceKind;
  /** Estimated tokens, one added for the separator before the piece. */
  tokens: number;
  /** Pieces that prefer to stay in one chunk (a block, a list that fits) share a segment. */
  segment: number;
  /** The first piece of a heading, where a new section starts. */
  sectionStart: boolean;
  headingPath: readonly string[];
}

export interface PieceLayout {
  pieces: Piece[];
  /** The estimated tokens of each segment, by segment number. */
  segmentTokens: number[];
}

interface LayoutState {
  text: string;
  tokenizer: Tokenizer;
  maxTokens: number;
  layout: PieceLayout;
  headings: Array<{ level: number; text: string }>;
  headingPath: readonly string[];
  /** Tokens of the headings just above the current content, kept free in each piece's budget. */
  headingRunTokens: number;
  previousKind: Block['kind'] | undefined;
}

/** Cuts a document's blocks into pieces that each fit a chunk, grouped into segments. */
export function layoutPieces(
  text: string,
  blocks: readonly Block[],
  tokenizer: Tokenizer,
  maxTokens: number,
): PieceLayout {
  const state: LayoutState = {
    text,
    tokenizer,
    maxTokens,
    layout: { pieces: [], segmentTokens: [] },
    headings: [],
    headingPath: [],
    headingRunTokens: 0,
    previousKind: undefined,
  };
  let index = 0;
  while (index < blocks.length) {
    index = layoutFrom(state, blocks, index);
  }
  return state.layout;
}

/** Lays out the block at `index` (or the run of list items or rows it starts); returns the next index. */
function layoutFrom(state: LayoutState, blocks: readonly Block[], index: number): number {
  const block = blocks[index];
  if (!block) return blocks.length;
  if (block.kind === 'heading') {
    layoutHeading(state, block);
    return index + 1;
  }
  let runEnd = index + 1;
  if (block.kind === 'list-item' || block.kind === 'table-row') {
    while (blocks[runEnd]?.kind === block.kind) runEnd += 1;
  }
  layoutRun(state, blocks.slice(index, runEnd));
  state.previousKind = block.kind;
  return runEnd;
}

function layoutHeading(state: LayoutState, block: Block & { kind: 'heading' }): void {
  const title = state.text.slice(block.start, block.end).replace(/\s+/g, ' ');
  while ((state.headings.at(-1)?.level ?? 0) >= block.level) state.headings.pop();
  state.headings.push({ level: block.level, text: title });
  state.headingPath = state.headings.map((heading) => heading.text);
  if (state.previousKind !== 'heading') state.headingRunTokens = 0;
  const spans = splitProse(state, block, state.maxTokens);
  const tokens = addSegment(state, 'heading', spans);
  state.headingRunTokens += tokens;
  state.previousKind = 'heading';
}

/** A run of list items or table rows stays one segment when it fits; else each block is one. */
function layoutRun(state: LayoutState, run: readonly Block[]): void {
  const budget = Math.max(1, state.maxTokens - state.headingRunTokens);
  const kind: PieceKind =
    run[0]?.kind === 'code' ? 'code' : run[0]?.kind === 'table-row' ? 'row' : 'text';
  const whole = run.map((block) => ({ start: block.start, end: block.end }));
  if (run.length > 1 && estimate(state, whole) <= budget) {
    addSegment(state, kind, whole);
    return;
  }
  for (const block of run) {
    const spans =
      kind === 'code' ? splitCode(state, block, budget) : splitProse(state, block, budget);
    addSegment(state, kind, spans);
  }
}

/** Adds one segment of pieces; returns its estimated tokens. */
function addSegment(state: LayoutState, kind: PieceKind, spans: readonly Span[]): number {
  const { pieces, segmentTokens } = state.layout;
  const segment = segmentTokens.length;
  let total = 0;
  spans.forEach((span, position) => {
    const tokens = pieceTokens(state, span);
    total += tokens;
    const sectionStart = kind === 'heading' && position === 0;
    pieces.push({ ...span, kind, tokens, segment, sectionStart, headingPath: state.headingPath });
  });
  segmentTokens.push(total);
  return total;
}

/** A block whole, else its sentences, each too-long sentence cut into runs of words. */
function splitProse(state: LayoutState, span: Span, budget: number): Span[] {
  if (pieceTokens(state, span) <= budget) return [span];
  return sentenceSpans(state.text, span.start, span.end).flatMap((sentence) =>
    pieceTokens(state, sentence) <= budget ? [sentence] : splitWords(state, sentence, budget),
  );
}

/** Code whole, else its lines (a block is never cut elsewhere), each too-long line into words. */
function splitCode(state: LayoutState, span: Span, budget: number): Span[] {
  if (pieceTokens(state, span) <= budget) return [span];
  return lineSpans(state.text, span.start, span.end).flatMap((line) =>
    pieceTokens(state, line) <= budget ? [line] : splitWords(state, line, budget),
  );
}

/** Greedy runs of whole words within `budget`; a word longer than that is cut by characters. */
function splitWords(state: LayoutState, span: Span, budget: number): Span[] {
  const runs: Span[] = [];
  let current: Span | undefined;
  let currentTokens = 0;
  for (const word of wordSpans(state.text, span.start, span.end)) {
    const tokens = pieceTokens(state, word);
    if (current && currentTokens + tokens <= budget) {
      current.end = word.end;
      currentTokens += tokens;
      continue;
    }
    if (current) runs.push(current);
    if (tokens > budget) {
      runs.push(...splitCharacters(state, word, budget, tokens));
      current = undefined;
      currentTokens = 0;
    } else {
      current = { ...word };
      currentTokens = tokens;
    }
  }
  if (current) runs.push(current);
  return runs;
}

/** Windows sized from the word's own characters-per-token, so each lands near `budget`. */
function splitCharacters(state: LayoutState, word: Span, budget: number, tokens: number): Span[] {
  const charactersPerToken = (word.end - word.start) / tokens;
  const window = Math.max(2, Math.floor(budget * charactersPerToken * 0.9));
  const windows: Span[] = [];
  for (let start = word.start; start < word.end;) {
    const end = start + window >= word.end ? word.end : safeCut(state.text, start + window);
    windows.push({ start, end });
    start = end;
  }
  return windows;
}

function pieceTokens(state: LayoutState, span: Span): number {
  return state.tokenizer.count(state.text.slice(span.start, span.end)) + 1;
}

function estimate(state: LayoutState, spans: readonly Span[]): number {
  return spans.reduce((sum, span) => sum + pieceTokens(state, span), 0);
}
