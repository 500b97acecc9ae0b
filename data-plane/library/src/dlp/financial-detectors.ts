import { IBAN_LENGTHS, isIbanValid, isLuhnValid } from './checksums.ts';
import { DETECTOR_PRIORITY, type PiiCandidate, type PiiDetector } from './pii-detector.ts';

// 13 to 19 digits, optionally grouped by spaces or dashes, starting with a major industry
// identifier of the card networks (2–6), and not inside a longer number.
const CARD_RUN = /(?<![\p{L}\p{N}_]|\d[ -])[2-6]\d(?:[ -]?\d){11,17}(?!\p{N})/gu;
const MIN_CARD_DIGITS = 13;

/**
 * Payment card numbers of any brand, validated with Luhn. When a run of digits fails as a
 * whole (a card followed by an expiry month, say), its longest prefix ending at a
 * separator that passes is taken.
 */
export const paymentCardDetector: PiiDetector = {
  name: 'payment-card',
  *detect(text) {
    for (const match of text.matchAll(CARD_RUN)) {
      const length = cardLength(match[0]);
      if (length === undefined) continue;
      yield {
        type: 'PAYMENT_CARD',
        start: match.index,
        end: match.index + length,
        detector: 'payment-card',
        priority: DETECTOR_PRIORITY.financial,
      };
    }
  },
};

function cardLength(run: string): number | undefined {
  const candidates = [run.length];
  for (let index = run.length - 1; index > 0; index -= 1) {
    if (run[index] === ' ' || run[index] === '-') candidates.push(index);
  }
  for (const end of candidates) {
    const digits = run.slice(0, end).replace(/[ -]/g, '');
    if (digits.length >= MIN_CARD_DIGITS && !/^(\d)\1+$/.test(digits) && isLuhnValid(digits)) {
      return end;
    }
  }
  return undefined;
}

// A country code, check digits, then up to 30 letters and digits, optionally in groups of
// four. The registry length of the country decides where the IBAN ends.
const IBAN_RUN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/g;

/** IBANs (upper case, compact or grouped by spaces) with the registry length and mod-97. */
export const ibanDetector: PiiDetector = {
  name: 'iban',
  *detect(text) {
    const pattern = new RegExp(IBAN_RUN.source, IBAN_RUN.flags);
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      const candidate = ibanAt(match[0], match.index);
      if (candidate) {
        pattern.lastIndex = candidate.end;
        yield candidate;
      } else {
        pattern.lastIndex = match.index + 1;
      }
    }
  },
};

function ibanAt(run: string, offset: number): PiiCandidate | undefined {
  const length = IBAN_LENGTHS[run.slice(0, 2)];
  if (length === undefined) return undefined;
  let compactIban = '';
  let end = 0;
  while (end < run.length && compactIban.length < length) {
    const character = run.charAt(end);
    if (character !== ' ') compactIban += character;
    end += 1;
  }
  const nextCharacter = run.charAt(end);
  if (/[A-Z0-9]/.test(nextCharacter) || !isIbanValid(compactIban)) return undefined;
  return {
    type: 'IBAN',
    start: offset,
    end: offset + end,
    detector: 'iban',
    priority: DETECTOR_PRIORITY.financial,
  };
}
