import { createHmac } from 'node:crypto';
import { detectPii, type PiiDetectionOptions } from './pii-detection.ts';
import type { PiiType } from './pii-detector.ts';

/** How `redactText` finds, replaces and reports. */
export interface RedactionOptions extends PiiDetectionOptions {
  /** Replacement text per type; default `[REDACTED:<TYPE>]`. */
  placeholders?: Partial<Record<PiiType, string>>;
  /**
   * Key for the findings' fingerprints (HMAC-SHA-256). Without it the report carries no
   * fingerprint: an unsalted hash of a card or phone number is reversible by enumeration.
   */
  fingerprintSalt?: string | Uint8Array;
}

/** One redacted value: where it was, what it was, never the value itself. */
export interface RedactionFinding {
  type: PiiType;
  /** Offsets in the original text (UTF-16 code units, end exclusive). */
  start: number;
  end: number;
  length: number;
  detector: string;
  /** HMAC-SHA-256 (hex) of the type and the value without separators, when salted. */
  fingerprint?: string;
}

export interface RedactionReport {
  findings: RedactionFinding[];
  countsByType: Partial<Record<PiiType, number>>;
  total: number;
}

export interface RedactionResult {
  text: string;
  report: RedactionReport;
}

/** The default placeholder of a type. */
export function redactionPlaceholder(type: PiiType): string {
  return `[REDACTED:${type}]`;
}

/**
 * Replaces every e-mail address, phone number, payment card, IBAN, validated national
 * identifier and credential in the text with a typed placeholder, and reports where each
 * was (in the original text) without keeping any of them.
 */
export function redactText(text: string, options: RedactionOptions = {}): RedactionResult {
  const findings = detectPii(text, options).map((candidate): RedactionFinding => {
    const finding: RedactionFinding = {
      type: candidate.type,
      start: candidate.start,
      end: candidate.end,
      length: candidate.end - candidate.start,
      detector: candidate.detector,
    };
    if (options.fingerprintSalt !== undefined) {
      const value = text.slice(candidate.start, candidate.end);
      finding.fingerprint = fingerprint(candidate.type, value, options.fingerprintSalt);
    }
    return finding;
  });
  return { text: replaceSpans(text, findings, options.placeholders), report: reportOf(findings) };
}

function replaceSpans(
  text: string,
  findings: readonly RedactionFinding[],
  placeholders: Partial<Record<PiiType, string>> = {},
): string {
  const parts: string[] = [];
  let cursor = 0;
  for (const finding of findings) {
    parts.push(
      text.slice(cursor, finding.start),
      placeholders[finding.type] ?? redactionPlaceholder(finding.type),
    );
    cursor = finding.end;
  }
  parts.push(text.slice(cursor));
  return parts.join('');
}

function reportOf(findings: RedactionFinding[]): RedactionReport {
  const countsByType: Partial<Record<PiiType, number>> = {};
  for (const finding of findings) {
    countsByType[finding.type] = (countsByType[finding.type] ?? 0) + 1;
  }
  return { findings, countsByType, total: findings.length };
}

// Types whose values are written with arbitrary separators and case: the same card number
// fingerprints the same however it was written.
const SEPARATED_TYPES = new Set<PiiType>([
  'PHONE',
  'PAYMENT_CARD',
  'IBAN',
  'US_SSN',
  'UK_NINO',
  'ES_DNI',
  'ES_NIE',
  'FR_NIR',
]);

/** The salted fingerprint of a value: HMAC-SHA-256 over its type and canonical form. */
export function fingerprint(type: PiiType, value: string, salt: string | Uint8Array): string {
  let canonical = value;
  if (SEPARATED_TYPES.has(type)) canonical = value.replace(/[^0-9A-Za-z+]/g, '').toUpperCase();
  else if (type === 'EMAIL') canonical = value.toLowerCase();
  return createHmac('sha256', salt).update(`${type}:${canonical}`).digest('hex');
}
