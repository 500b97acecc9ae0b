import { sentenceSpans, wordSpans } from './text-boundaries.ts';
import { type Tokenizer } from './tokenizer.ts';

/** Characters looked at per token of overlap wanted: generous, so a whole sentence can fit. */
const CHARACTERS_PER_OVERLAP_TOKEN = 12;

/**
 * Where the overlap carried into the next chunk starts: the earliest sentence start in
 * `text.slice(regionStart, end)` whose tail fits `allowance` tokens, else the earliest
 * word start that does; undefined when not even the last word fits.
 */
export function overlapStart(
  text: string,
  region: { start: number; end: number },
  allowance: number,
  tokenizer: Tokenizer,
): number | undefined {
  if (allowance <= 0) return undefined;
  const from = Math.max(region.start, region.end - allowance * CHARACTERS_PER_OVERLAP_TOKEN);
  const fits = (start: number): boolean =>
    tokenizer.count(text.slice(start, region.end)) <= allowance;
  // A sentence cut by the look-back window does not start where its first span does.
  const sentences = sentenceSpans(text, from, region.end)
    .map((sentence) => sentence.start)
    .filter((start, position) => position > 0 || from === region.start);
  return (
    earliestFitting(sentences, fits) ?? earliestFitting(wordStarts(text, from, region.end), fits)
  );
}

function wordStarts(text: string, from: number, end: number): number[] {
  // The first word may be cut by the look-back window unless it starts right there.
  const cut = from > 0 && /\S/.test(text.charAt(from - 1));
  return wordSpans(text, from, end)
    .map((word) => word.start)
    .filter((start, position) => position > 0 || !cut);
}

/** Tails grow as the start moves back, so stop at the first start that no longer fits. */
function earliestFitting(
  starts: readonly number[],
  fits: (start: number) => boolean,
): number | undefined {
  let earliest: number | undefined;
  for (const start of [...starts].reverse()) {
    if (!fits(start)) break;
    earliest = start;
  }
  return earliest;
}
