import type { CountryCode } from 'libphonenumber-js';

/** Every kind of value the data-loss prevention pass finds and redacts. */
export const PII_TYPES = [
  'EMAIL',
  'PHONE',
  'PAYMENT_CARD',
  'IBAN',
  'US_SSN',
  'UK_NINO',
  'ES_DNI',
  'ES_NIE',
  'IT_FISCAL_CODE',
  'FR_NIR',
  'PRIVATE_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'GITHUB_TOKEN',
  'STRIPE_KEY',
  'SLACK_TOKEN',
  'GOOGLE_API_KEY',
  'JWT',
  'SECRET',
] as const;

export type PiiType = (typeof PII_TYPES)[number];

/** A span a detector claims, in UTF-16 offsets of the text it was given. */
export interface PiiCandidate {
  type: PiiType;
  start: number;
  end: number;
  detector: string;
  /** Higher wins when candidates overlap; then the longer span, then the earlier one. */
  priority: number;
}

/** Options the detectors themselves depend on. */
export interface DetectionOptions {
  /**
   * Regions whose national number formats count as phone numbers (numbers written with a
   * leading `+` are found whatever the region). Default `['US', 'GB', 'DE', 'FR']`.
   */
  phoneRegions?: readonly CountryCode[];
}

/**
 * One detector: a single left-to-right pass over the text yielding candidates. Detectors
 * use bounded patterns anchored at token starts, so each pass is linear in the text.
 */
export interface PiiDetector {
  readonly name: string;
  detect(text: string): Iterable<PiiCandidate>;
}

/** Priorities: secrets over financial numbers over national identifiers over contacts. */
export const DETECTOR_PRIORITY = {
  privateKey: 100,
  token: 90,
  contextualSecret: 85,
  secretAssignment: 80,
  financial: 70,
  nationalId: 60,
  email: 50,
  phone: 40,
} as const;
