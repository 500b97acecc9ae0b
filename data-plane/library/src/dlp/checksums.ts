/**
 * Check-digit algorithms used to tell real identifiers from look-alikes. Each takes the
 * compact form (no spaces or dashes) and never throws.
 */

/** Luhn (mod 10), as printed on payment cards. */
export function isLuhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The remainder of a decimal string of any length divided by `divisor` (small divisors). */
export function decimalRemainder(digits: string, divisor: number): number {
  let remainder = 0;
  for (let index = 0; index < digits.length; index += 1) {
    remainder = (remainder * 10 + (digits.charCodeAt(index) - 48)) % divisor;
  }
  return remainder;
}

/** IBAN lengths by country, from the SWIFT IBAN registry. */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HN: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/** ISO 13616: the registry length for the country and mod-97 of the rearranged number is 1. */
export function isIbanValid(compact: string): boolean {
  const expectedLength = IBAN_LENGTHS[compact.slice(0, 2)];
  if (expectedLength !== compact.length || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(compact)) {
    return false;
  }
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let numeric = '';
  for (const character of rearranged) {
    const code = character.charCodeAt(0);
    numeric += code >= 65 ? String(code - 55) : character;
  }
  return decimalRemainder(numeric, 97) === 1;
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** Spanish DNI (8 digits and a letter) or NIE (X/Y/Z, 7 digits and a letter). */
export function isSpanishIdValid(compact: string): boolean {
  const match = /^([XYZ]|\d)(\d{7})([A-Z])$/.exec(compact);
  if (!match) return false;
  const [, first = '', rest = '', letter] = match;
  const lead = 'XYZ'.indexOf(first);
  const number = Number((lead >= 0 ? String(lead) : first) + rest);
  return DNI_LETTERS[number % 23] === letter;
}

// Values of characters in odd (1st, 3rd…) positions of an Italian fiscal code; digits map
// as the letter at the same index (0 → A).
const FISCAL_CODE_ODD = [
  1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

function fiscalCodeIndex(character: string): number {
  const code = character.charCodeAt(0);
  return code <= 57 ? code - 48 : code - 65;
}

/** Italian codice fiscale: 16 characters whose last is a check letter over the first 15. */
export function isItalianFiscalCodeValid(compact: string): boolean {
  if (
    !/^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/.test(
      compact,
    )
  ) {
    return false;
  }
  let sum = 0;
  for (let index = 0; index < 15; index += 1) {
    const value = fiscalCodeIndex(compact.charAt(index));
    sum += index % 2 === 0 ? (FISCAL_CODE_ODD[value] ?? 0) : value;
  }
  return compact.charCodeAt(15) === 65 + (sum % 26);
}

/**
 * French NIR (social security number): 13 characters then a two-digit key, 97 minus the
 * number mod 97. Corsican departments 2A and 2B count as 19 and 18 for the key.
 */
export function isFrenchNirValid(compact: string): boolean {
  const match = /^([12]\d{4}(?:\d{2}|2A|2B)\d{6})(\d{2})$/.exec(compact);
  if (!match) return false;
  const [, body = '', key] = match;
  const numeric = body.replace('2A', '19').replace('2B', '18');
  const month = Number(body.slice(3, 5));
  if (month < 1 || (month > 12 && month < 20) || (month > 42 && month < 50)) return false;
  return Number(key) === 97 - decimalRemainder(numeric, 97);
}

/**
 * US Social Security number: area not 000, 666 or 900–999, group not 00, serial not 0000,
 * and not one of the numbers published in advertising.
 */
export function isUsSsnValid(area: string, group: string, serial: string): boolean {
  const areaNumber = Number(area);
  if (areaNumber === 0 || areaNumber === 666 || areaNumber >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  return !PUBLISHED_SSNS.has(`${area}${group}${serial}`);
}

const PUBLISHED_SSNS = new Set(['078051120', '219099999', '457555462']);

const NINO_INVALID_PREFIXES = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

/** UK National Insurance number prefix rules (HMRC): letters, and prefixes never issued. */
export function isUkNinoPrefixValid(prefix: string): boolean {
  return /^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]$/.test(prefix) && !NINO_INVALID_PREFIXES.has(prefix);
}
