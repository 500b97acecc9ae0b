export { containsPii, detectPii, type PiiDetectionOptions } from './pii-detection.ts';
export { DEFAULT_PHONE_REGIONS } from './contact-detectors.ts';
export { PII_TYPES, type PiiCandidate, type PiiType } from './pii-detector.ts';
export {
  fingerprint,
  redactionPlaceholder,
  redactText,
  type RedactionFinding,
  type RedactionOptions,
  type RedactionReport,
  type RedactionResult,
} from './redact-text.ts';
export { scrubForLog } from './scrub-for-log.ts';
