import { createHash } from 'node:crypto';

// Zero-width space, non-joiner, joiner, word joiner, byte-order mark and soft hyphen: they
// change the bytes of a text but not what a reader sees.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

/**
 * The form two texts share when a reader would call them the same: Unicode NFKC,
 * case-folded (upper- then lower-casing, which folds `ß` to `ss` as full case folding
 * does), invisible characters removed, whitespace runs collapsed to one space and trimmed.
 */
export function normalizeForDigest(text: string): string {
  return text
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
    .replace(/\s+/g, ' ')
    .trim();
}

/** SHA-256 (hex) of the normalised text: equal for exact duplicates. */
export function contentDigest(text: string): string {
  return createHash('sha256').update(normalizeForDigest(text), 'utf8').digest('hex');
}
