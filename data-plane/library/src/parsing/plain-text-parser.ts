import { type DocumentBuilder } from './document-builder.ts';

/** Plain text: paragraphs are separated by blank lines; line breaks inside one are kept. */
export function parsePlainTextInto(builder: DocumentBuilder, text: string): void {
  for (const paragraph of normaliseNewlines(text).split(/\n[ \t]*\n/)) {
    builder.add({ kind: 'paragraph' }, paragraph.replace(/[ \t]+$/gm, ''));
  }
}

/** CRLF and lone CR become LF, so spans count one character per line break. */
export function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}
