import { DocumentBuilder } from './document-builder.ts';
import { DocumentParseError } from './document-parse-error.ts';
import { parseHtmlInto } from './html-parser.ts';
import { parseMarkdownInto } from './markdown-parser.ts';
import {
  type ParsedDocument,
  type ParsedDocumentMetadata,
  SUPPORTED_MEDIA_TYPES,
  type SupportedMediaType,
} from './parsed-document.ts';
import { normaliseNewlines, parsePlainTextInto } from './plain-text-parser.ts';
import { parsePdfInto } from './pdf-parser.ts';

/** 20 MiB: the default largest upload `parseDocument` accepts. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;

/** Names other software gives the supported media types. */
const MEDIA_TYPE_ALIASES: Readonly<Record<string, SupportedMediaType>> = {
  'text/x-markdown': 'text/markdown',
  'application/xhtml+xml': 'text/html',
  'application/x-pdf': 'application/pdf',
};

/** An upload: its bytes (any media type) or, for the text types, its text. */
export type DocumentInput = (
  { bytes: Uint8Array; text?: never } | { text: string; bytes?: never }
) & {
  /** A media type such as `text/markdown; charset=utf-8`; parameters are ignored (text is UTF-8). */
  mediaType: string;
};

export interface ParseDocumentOptions {
  /** Larger uploads are refused with `document_too_large`; default {@link DEFAULT_MAX_DOCUMENT_BYTES}. */
  maxBytes?: number;
}

/**
 * Turns an uploaded document into plain text and typed blocks with exact spans.
 *
 * @throws {DocumentParseError} `unsupported_media_type` (415), `document_too_large` (413),
 *   or `unreadable_document` (422: not valid UTF-8, a damaged or encrypted PDF, or no text).
 */
export async function parseDocument(
  input: DocumentInput,
  options: ParseDocumentOptions = {},
): Promise<ParsedDocument> {
  const mediaType = supportedMediaType(input.mediaType);
  const byteLength = input.bytes ? input.bytes.byteLength : Buffer.byteLength(input.text);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  if (byteLength > maxBytes) {
    throw new DocumentParseError(
      'document_too_large',
      `The document is ${byteLength} bytes; at most ${maxBytes} are accepted.`,
    );
  }
  const builder = new DocumentBuilder();
  const metadata: ParsedDocumentMetadata = { mediaType, byteLength };
  const found = await parseInto(builder, input, mediaType);
  if (found.pageCount !== undefined) metadata.pageCount = found.pageCount;
  if (found.language !== undefined) metadata.language = found.language;
  if (builder.blockCount === 0) {
    throw new DocumentParseError('unreadable_document', 'The document has no readable text.');
  }
  return builder.build(metadata, found.title);
}

/** Whether `mediaType` (parameters allowed) is one `parseDocument` reads. */
export function isSupportedMediaType(mediaType: string): boolean {
  return resolveMediaType(mediaType) !== undefined;
}

interface ParseFindings {
  title?: string;
  pageCount?: number;
  language?: string;
}

async function parseInto(
  builder: DocumentBuilder,
  input: DocumentInput,
  mediaType: SupportedMediaType,
): Promise<ParseFindings> {
  if (mediaType === 'application/pdf') {
    if (!input.bytes)
      throw new DocumentParseError('unreadable_document', 'A PDF must be uploaded as bytes.');
    return parsePdfInto(builder, input.bytes);
  }
  const text = normaliseNewlines(
    input.bytes ? decodeUtf8(input.bytes) : input.text.replace(/^\uFEFF/, ''),
  );
  switch (mediaType) {
    case 'text/plain':
      parsePlainTextInto(builder, text);
      return {};
    case 'text/markdown':
      return parseMarkdownInto(builder, text);
    case 'text/html':
      return parseHtmlInto(builder, text);
  }
}

function supportedMediaType(mediaType: string): SupportedMediaType {
  const resolved = resolveMediaType(mediaType);
  if (!resolved) {
    throw new DocumentParseError(
      'unsupported_media_type',
      `Documents of type ${JSON.stringify(mediaType)} are not supported; send one of ${SUPPORTED_MEDIA_TYPES.join(', ')}.`,
    );
  }
  return resolved;
}

function resolveMediaType(mediaType: string): SupportedMediaType | undefined {
  const essence = mediaType.split(';')[0]?.trim().toLowerCase() ?? '';
  const supported = SUPPORTED_MEDIA_TYPES.find((type) => type === essence);
  return supported ?? MEDIA_TYPE_ALIASES[essence];
}

/** Strict UTF-8 (a BOM is dropped): bytes in another encoding are unreadable, not mojibake. */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new DocumentParseError('unreadable_document', 'The document is not valid UTF-8 text.', {
      cause: error,
    });
  }
}
