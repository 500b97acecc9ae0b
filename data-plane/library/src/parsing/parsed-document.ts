/** The media types the library parses; anything else is refused with `unsupported_media_type`. */
export const SUPPORTED_MEDIA_TYPES = [
  'text/plain',
  'text/markdown',
  'text/html',
  'application/pdf',
] as const;

export type SupportedMediaType = (typeof SUPPORTED_MEDIA_TYPES)[number];

/** Where a block's text lies in {@link ParsedDocument.text}: `text.slice(start, end)`. */
export interface TextSpan {
  start: number;
  end: number;
  /** The 1-based page the block came from (PDF only). */
  page?: number;
}

export interface HeadingBlock extends TextSpan {
  kind: 'heading';
  /** 1 for a title (`#`, `<h1>`) down to 6. */
  level: number;
}

export interface ParagraphBlock extends TextSpan {
  kind: 'paragraph';
}

export interface ListItemBlock extends TextSpan {
  kind: 'list-item';
  ordered: boolean;
  /** 0 for a top-level item, 1 for an item of a nested list, … */
  depth: number;
}

export interface CodeBlock extends TextSpan {
  kind: 'code';
  language?: string;
}

export interface QuoteBlock extends TextSpan {
  kind: 'quote';
}

export interface TableRowBlock extends TextSpan {
  kind: 'table-row';
  /** Whether the row holds the table's column headers. */
  header: boolean;
}

/** A typed piece of a document's structure; its text is a span of the document's text. */
export type Block =
  HeadingBlock | ParagraphBlock | ListItemBlock | CodeBlock | QuoteBlock | TableRowBlock;

export type BlockKind = Block['kind'];

export interface ParsedDocumentMetadata {
  mediaType: SupportedMediaType;
  /** The size of the upload as received, in bytes. */
  byteLength: number;
  pageCount?: number;
  /** The document's declared language (`<html lang>`, a PDF's `/Lang`), when it has one. */
  language?: string;
}

/**
 * A document reduced to plain text and its structure. Blocks are in reading order, do not
 * overlap, and are separated in `text` by a blank line, so `text` reads as plain text and
 * every block (and any span chunking derives from them) resolves with `text.slice`.
 */
export interface ParsedDocument {
  text: string;
  blocks: Block[];
  title?: string;
  metadata: ParsedDocumentMetadata;
}
