import { type CountryCode, findPhoneNumbersInText } from 'libphonenumber-js/max';
import { DETECTOR_PRIORITY, type PiiCandidate, type PiiDetector } from './pii-detector.ts';
import { regexCandidates } from './regex-candidates.ts';

const LOCAL_CHARACTER = /[A-Za-z0-9._%+-]/;
const DOMAIN_CHARACTER = /[A-Za-z0-9.-]/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const MAX_LOCAL_LENGTH = 64;
const MAX_DOMAIN_LENGTH = 253;

/**
 * E-mail addresses (ASCII). Found from each `@` outwards with bounded scans rather than a
 * regular expression starting at every character, which is quadratic on long words.
 */
export const emailDetector: PiiDetector = {
  name: 'email',
  *detect(text) {
    for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
      const span = emailSpanAround(text, at);
      if (span) {
        yield {
          type: 'EMAIL',
          start: span[0],
          end: span[1],
          detector: 'email',
          priority: DETECTOR_PRIORITY.email,
        };
      }
    }
  },
};

function emailSpanAround(text: string, at: number): [number, number] | undefined {
  const start = localPartStart(text, at);
  const end = domainEnd(text, at);
  if (start === at || !DOMAIN.test(text.slice(at + 1, end))) return undefined;
  return [start, end];
}

function localPartStart(text: string, at: number): number {
  let start = at;
  while (
    start > 0 &&
    at - start < MAX_LOCAL_LENGTH &&
    LOCAL_CHARACTER.test(text.charAt(start - 1))
  ) {
    start -= 1;
  }
  while (text.charAt(start) === '.' && start < at) start += 1;
  return start;
}

function domainEnd(text: string, at: number): number {
  let end = at + 1;
  while (
    end < text.length &&
    end - at <= MAX_DOMAIN_LENGTH &&
    DOMAIN_CHARACTER.test(text.charAt(end))
  ) {
    end += 1;
  }
  while (end > at + 1 && /[.-]/.test(text.charAt(end - 1))) end -= 1;
  return end;
}

/** Numbers written in the international format, `+` and 8 to 15 digits, unseparated. */
const e164Detector: PiiDetector = {
  name: 'phone-e164',
  detect: (text) =>
    regexCandidates(text, {
      type: 'PHONE',
      detector: 'phone-e164',
      priority: DETECTOR_PRIORITY.phone,
      pattern: /(?<![\p{L}\p{N}_+])\+[1-9]\d{7,14}(?!\p{N})/gu,
    }),
};

// A run of digits and the separators of written phone numbers; only such runs are handed to
// libphonenumber, which would otherwise scan the whole document once per region.
const PHONE_WINDOW =
  /(?<![\p{L}\p{N}_]|[\p{L}\p{N}_][-/.])(?:\+|\(|00)?\d[\d \t().\-/]{4,40}\d(?!\p{N})/gu;
const MIN_PHONE_DIGITS = 7;
const NANP_REGIONS = new Set<CountryCode>(['US', 'CA']);
// (212) 555-0123, 212-555-0123, 212.555.0123, 1 212 555 0123: the way these are written.
const NANP_LAYOUT = /^(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}$/;
const NANP_LAYOUT_START = /^(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}/;
const priority = DETECTOR_PRIORITY.phone;

/** The default regions for nationally written numbers. */
export const DEFAULT_PHONE_REGIONS: readonly CountryCode[] = ['US', 'GB', 'DE', 'FR'];

/**
 * Phone numbers validated by libphonenumber's full metadata. International numbers (`+…`,
 * `00…`) count in any region; a nationally written number must carry separators (a bare
 * run of digits is more often an order number than a phone number) and, outside North
 * America, the trunk prefix `0` (which keeps dates such as 2024-01-15 out); North American numbers
 * must be laid out as they are written, (212) 555-0123 or 212-555-0123.
 */
export function createPhoneDetector(
  regions: readonly CountryCode[] = DEFAULT_PHONE_REGIONS,
): PiiDetector {
  return {
    name: 'phone',
    *detect(text) {
      yield* e164Detector.detect(text);
      for (const window of text.matchAll(PHONE_WINDOW)) {
        if (ISBN_BEFORE.test(text.slice(Math.max(0, window.index - 12), window.index))) continue;
        for (const part of plausibleParts(window[0], window.index)) {
          yield* phonesInWindow(part.text, part.offset, regions);
        }
      }
    },
  };
}

// Book numbers are written like national phone numbers (ISBN 0-306-40615-2).
const ISBN_BEFORE = /ISBN(?:-1[03])?:?\s*$/i;
const PART_SEPARATOR = /\s+\/\s+|\s{2,}/g;
const MAX_PHONE_DIGITS = 17;
const MAX_SINGLE_DIGIT_GROUPS = 2;

/**
 * The parts of a window (split where lists of numbers are separated) that could be one
 * phone number: 7 to 17 digits, not a run of single digits. This also bounds the work
 * libphonenumber does on long digit tables.
 */
function* plausibleParts(
  window: string,
  offset: number,
): Iterable<{ text: string; offset: number }> {
  let start = 0;
  for (const separator of [...window.matchAll(PART_SEPARATOR), undefined]) {
    const end = separator ? separator.index : window.length;
    const text = window.slice(start, end);
    const digits = countDigits(text);
    const singleDigitGroups = text.match(/(?<!\d)\d(?!\d)/g)?.length ?? 0;
    if (
      digits >= MIN_PHONE_DIGITS &&
      digits <= MAX_PHONE_DIGITS &&
      singleDigitGroups <= MAX_SINGLE_DIGIT_GROUPS
    ) {
      yield { text, offset: offset + start };
    }
    if (separator) start = separator.index + separator[0].length;
  }
}

function* phonesInWindow(
  window: string,
  offset: number,
  regions: readonly CountryCode[],
): Iterable<PiiCandidate> {
  for (const region of regionsToTry(window, regions)) {
    const found = findPhoneNumbersInText(window, region ? { defaultCountry: region } : {});
    for (const { startsAt, endsAt } of found) {
      // libphonenumber's span may carry the separators around the number.
      const raw = window.slice(startsAt, endsAt);
      const start = startsAt + (raw.length - raw.trimStart().length);
      const end = startsAt + raw.trimEnd().length;
      if (!isPlausiblyWritten(window.slice(start, end), region)) continue;
      yield {
        type: 'PHONE',
        start: offset + start,
        end: offset + end,
        detector: 'phone',
        priority,
      };
    }
  }
}

// Each libphonenumber call costs tens of microseconds: call it only for the regions whose
// written form the window starts with (`undefined` stands for the international format).
function regionsToTry(
  window: string,
  regions: readonly CountryCode[],
): ReadonlyArray<CountryCode | undefined> {
  if (/^(?:\+|00)/.test(window)) return [undefined];
  const nanp = NANP_LAYOUT_START.test(window);
  const trunk = /^\(?0/.test(window);
  return regions.filter((region) => (NANP_REGIONS.has(region) ? nanp : trunk));
}

function isPlausiblyWritten(raw: string, region: CountryCode | undefined): boolean {
  if (region === undefined) return /^(?:\+|00)/.test(raw);
  if (NANP_REGIONS.has(region)) return NANP_LAYOUT.test(raw);
  return /[\s().\-/]/.test(raw) && /^\(?0/.test(raw);
}

function countDigits(value: string): number {
  let digits = 0;
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code >= 48 && code <= 57) digits += 1;
  }
  return digits;
}
