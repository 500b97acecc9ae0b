import { decodeHTML } from 'entities';
import { Lexer, type Token, type Tokens } from 'marked';
import { type BlockDraft, type DocumentBuilder } from './document-builder.ts';
import { parseHtmlInto } from './html-parser.ts';

/** How the block being read is nested: inside a quote, inside a list. */
interface MarkdownContext {
  inQuote: boolean;
  listDepth: number;
}

interface MarkdownState {
  builder: DocumentBuilder;
  title?: string;
}

/**
 * Reads Markdown (CommonMark + GFM, through marked's lexer) into blocks. Inline markup is
 * reduced to its text (a link to its label, an image to its alt text); raw HTML blocks are
 * read as HTML.
 */
export function parseMarkdownInto(builder: DocumentBuilder, markdown: string): { title?: string } {
  const tokens = new Lexer({ gfm: true }).lex(markdown);
  const state: MarkdownState = { builder };
  readBlocks(state, tokens, { inQuote: false, listDepth: 0 });
  return state.title === undefined ? {} : { title: state.title };
}

function readBlocks(state: MarkdownState, tokens: Token[], context: MarkdownContext): void {
  for (const token of tokens) readBlock(state, token, context);
}

function readBlock(state: MarkdownState, token: Tokens.Generic, context: MarkdownContext): void {
  const prose: BlockDraft = context.inQuote ? { kind: 'quote' } : { kind: 'paragraph' };
  switch (token.type) {
    case 'heading':
      readHeading(state, token as Tokens.Heading);
      break;
    case 'paragraph':
    case 'text':
      state.builder.add(prose, inlineText(token));
      break;
    case 'code':
      readCode(state, token as Tokens.Code);
      break;
    case 'blockquote':
      readBlocks(state, (token as Tokens.Blockquote).tokens, { ...context, inQuote: true });
      break;
    case 'list':
      readList(state, token as Tokens.List, context);
      break;
    case 'table':
      readTable(state, token as Tokens.Table);
      break;
    case 'html':
      parseHtmlInto(state.builder, (token as Tokens.HTML).text);
      break;
    default:
      // space, hr, def: no text of their own.
      break;
  }
}

function readHeading(state: MarkdownState, token: Tokens.Heading): void {
  const text = inlineText(token);
  state.builder.add({ kind: 'heading', level: token.depth }, text);
  if (state.title === undefined && token.depth === 1 && text.trim()) state.title = text.trim();
}

function readCode(state: MarkdownState, token: Tokens.Code): void {
  const language = token.lang?.trim().split(/\s+/)[0];
  state.builder.add(language ? { kind: 'code', language } : { kind: 'code' }, token.text);
}

/** An item's own text is one block; its nested lists and code follow as their own blocks. */
function readList(state: MarkdownState, list: Tokens.List, context: MarkdownContext): void {
  for (const item of list.items) {
    const own = item.tokens.filter((token) => token.type === 'text' || token.type === 'paragraph');
    const draft: BlockDraft = {
      kind: 'list-item',
      ordered: list.ordered,
      depth: context.listDepth,
    };
    state.builder.add(draft, own.map((token) => inlineText(token as Tokens.Generic)).join('\n'));
    const nested = item.tokens.filter((token) => !own.includes(token));
    readBlocks(state, nested, { ...context, listDepth: context.listDepth + 1 });
  }
}

function readTable(state: MarkdownState, table: Tokens.Table): void {
  const row = (cells: Tokens.TableCell[]): string =>
    cells.map((cell) => inlineText(cell).trim()).join(' | ');
  state.builder.add({ kind: 'table-row', header: true }, row(table.header));
  for (const cells of table.rows)
    state.builder.add({ kind: 'table-row', header: false }, row(cells));
}

/** The text a reader sees: markup removed, entity references (kept by marked) decoded. */
function inlineText(token: { tokens?: Token[]; text?: string }): string {
  if (!token.tokens) return decodeHTML(token.text ?? '');
  return token.tokens.map((child) => inlineTokenText(child as Tokens.Generic)).join('');
}

function inlineTokenText(token: Tokens.Generic): string {
  switch (token.type) {
    case 'br':
      return '\n';
    case 'html':
    case 'checkbox':
      return '';
    case 'image':
      return (token as Tokens.Image).text;
    case 'codespan':
    case 'escape':
      return decodeHTML((token as Tokens.Codespan).text);
    default:
      return inlineText(token);
  }
}
