import { createPhoneDetector, emailDetector } from './contact-detectors.ts';
import { ibanDetector, paymentCardDetector } from './financial-detectors.ts';
import { nationalIdDetectors } from './national-id-detectors.ts';
import type { DetectionOptions, PiiCandidate, PiiDetector, PiiType } from './pii-detector.ts';
import { secretDetectors } from './secret-detectors.ts';

/** Which detectors run, and how. */
export interface PiiDetectionOptions extends DetectionOptions {
  /** The types to look for; default all of `PII_TYPES`. */
  types?: readonly PiiType[];
}

function createPiiDetectors(options: DetectionOptions): readonly PiiDetector[] {
  return [
    ...secretDetectors,
    ibanDetector,
    paymentCardDetector,
    ...nationalIdDetectors,
    emailDetector,
    createPhoneDetector(options.phoneRegions),
  ];
}

const defaultDetectors = createPiiDetectors({});

function detectorsFor(options: PiiDetectionOptions): readonly PiiDetector[] {
  return options.phoneRegions ? createPiiDetectors(options) : defaultDetectors;
}

/** Every candidate of every enabled type, overlapping ones included, in detector order. */
export function* findPiiCandidates(
  text: string,
  options: PiiDetectionOptions = {},
): Iterable<PiiCandidate> {
  const enabled = options.types ? new Set(options.types) : undefined;
  for (const detector of detectorsFor(options)) {
    for (const candidate of detector.detect(text)) {
      if (!enabled || enabled.has(candidate.type)) yield candidate;
    }
  }
}

/**
 * The findings that will be redacted: non-overlapping, in text order. Where candidates
 * overlap, the higher priority wins (secrets, then financial numbers, national
 * identifiers, e-mail addresses, phone numbers), then the longer span, then the earlier
 * one, then the detector's name, so the outcome never depends on detector order.
 */
export function detectPii(text: string, options: PiiDetectionOptions = {}): PiiCandidate[] {
  return resolveOverlaps([...findPiiCandidates(text, options)]);
}

/** True when the text holds anything the redaction would remove; stops at the first find. */
export function containsPii(text: string, options: PiiDetectionOptions = {}): boolean {
  for (const _candidate of findPiiCandidates(text, options)) return true;
  return false;
}

/** Clusters of chained overlaps are resolved on their own, so the cost stays linear. */
export function resolveOverlaps(candidates: readonly PiiCandidate[]): PiiCandidate[] {
  const byStart = [...candidates].sort((a, b) => a.start - b.start || b.end - a.end);
  const chosen: PiiCandidate[] = [];
  let cluster: PiiCandidate[] = [];
  let clusterEnd = -1;
  for (const candidate of byStart) {
    if (candidate.start >= clusterEnd) {
      chosen.push(...pickFromCluster(cluster));
      cluster = [];
    }
    cluster.push(candidate);
    clusterEnd = Math.max(clusterEnd, candidate.end);
  }
  chosen.push(...pickFromCluster(cluster));
  return chosen.sort((a, b) => a.start - b.start);
}

function pickFromCluster(cluster: readonly PiiCandidate[]): PiiCandidate[] {
  if (cluster.length <= 1) return [...cluster];
  const picked: PiiCandidate[] = [];
  for (const candidate of [...cluster].sort(compareRank)) {
    if (!picked.some((other) => candidate.start < other.end && other.start < candidate.end)) {
      picked.push(candidate);
    }
  }
  return picked;
}

function compareRank(a: PiiCandidate, b: PiiCandidate): number {
  return (
    b.priority - a.priority ||
    b.end - b.start - (a.end - a.start) ||
    a.start - b.start ||
    a.detector.localeCompare(b.detector) ||
    a.type.localeCompare(b.type)
  );
}
