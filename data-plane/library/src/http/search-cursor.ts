import { createHash } from 'node:crypto';
import { LibraryRequestError } from './library-requests.ts';

/** What a cursor is bound to: the query, its filters, the snapshot searched. */
export type CursorBinding = Readonly<Record<string, unknown>>;

/**
 * Search cursors: the offset into the fused ranking, bound to the query and filters it was
 * made for (a digest), so a cursor replayed with another query is refused, not misread.
 */
function bindingOf(input: CursorBinding): string {
  return createHash('sha256').update(JSON.stringify(input)).digest('base64url').slice(0, 16);
}

export function encodeCursor(offset: number, input: CursorBinding) {
  return Buffer.from(JSON.stringify({ o: offset, b: bindingOf(input) })).toString('base64url');
}

/** The offset a cursor carries (0 without one); 400 for a foreign or damaged cursor. */
export function decodeCursor(cursor: string | null, input: CursorBinding): number {
  if (cursor === null || cursor === '') return 0;
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      o?: unknown;
      b?: unknown;
    };
    if (
      typeof decoded.o === 'number' &&
      Number.isInteger(decoded.o) &&
      decoded.o >= 0 &&
      decoded.o <= 10_000 &&
      decoded.b === bindingOf(input)
    ) {
      return decoded.o;
    }
  } catch {
    // falls through to the refusal
  }
  throw LibraryRequestError.invalid('cursor is not a cursor of this search.', [
    { path: 'cursor', message: 'does not belong to this query and filters' },
  ]);
}
