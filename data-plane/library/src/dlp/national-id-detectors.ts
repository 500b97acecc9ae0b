import {
  isFrenchNirValid,
  isItalianFiscalCodeValid,
  isSpanishIdValid,
  isUkNinoPrefixValid,
  isUsSsnValid,
} from './checksums.ts';
import { DETECTOR_PRIORITY, type PiiDetector } from './pii-detector.ts';
import { compact, regexCandidates, type RegexDetection } from './regex-candidates.ts';

const priority = DETECTOR_PRIORITY.nationalId;

const detections: readonly RegexDetection[] = [
  {
    // AAA-GG-SSSS or AAA GG SSSS; a bare nine-digit run is too often something else.
    type: 'US_SSN',
    detector: 'us-ssn',
    priority,
    pattern: /(?<![\p{N}-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\p{N}]|-\p{N})/gu,
    accept: (_value, match) => isUsSsnValid(match[1] ?? '', match[3] ?? '', match[4] ?? ''),
  },
  {
    type: 'UK_NINO',
    detector: 'uk-nino',
    priority,
    pattern: /(?<![A-Za-z0-9])([A-Z]{2}) ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])/g,
    accept: (_value, match) => isUkNinoPrefixValid(match[1] ?? ''),
  },
  {
    type: 'ES_DNI',
    detector: 'es-dni',
    priority,
    pattern: /(?<![A-Za-z0-9])\d{8}-?[A-Z](?![A-Za-z0-9])/g,
    accept: (value) => isSpanishIdValid(compact(value)),
  },
  {
    type: 'ES_NIE',
    detector: 'es-nie',
    priority,
    pattern: /(?<![A-Za-z0-9])[XYZ]-?\d{7}-?[A-Z](?![A-Za-z0-9])/g,
    accept: (value) => isSpanishIdValid(compact(value)),
  },
  {
    type: 'IT_FISCAL_CODE',
    detector: 'it-fiscal-code',
    priority,
    pattern:
      /(?<![A-Za-z0-9])[A-Z]{6}[0-9A-Z]{2}[A-Z][0-9A-Z]{2}[A-Z][0-9A-Z]{3}[A-Z](?![A-Za-z0-9])/g,
    accept: (value) => isItalianFiscalCodeValid(value),
  },
  {
    type: 'FR_NIR',
    detector: 'fr-nir',
    priority,
    pattern: /(?<![\p{N}])[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\p{N}])/gu,
    accept: (value) => isFrenchNirValid(compact(value)),
  },
];

/**
 * National identifiers that can be validated rather than only pattern-matched: US SSN
 * (issuance ranges), UK National Insurance number (HMRC prefix rules), Spanish DNI and NIE
 * (check letter), Italian codice fiscale (check character), French NIR (mod-97 key).
 */
export const nationalIdDetectors: readonly PiiDetector[] = detections.map((detection) => ({
  name: detection.detector,
  detect: (text: string) => regexCandidates(text, detection),
}));
