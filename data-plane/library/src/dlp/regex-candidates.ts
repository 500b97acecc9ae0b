import type { PiiCandidate, PiiType } from './pii-detector.ts';

/** How a regular-expression detector turns a match into a candidate span. */
export interface RegexDetection {
  type: PiiType;
  detector: string;
  priority: number;
  /** Must carry the `g` flag; add `d` when `groups` is set. */
  pattern: RegExp;
  /**
   * Redact only a capture group (the value of `key=value`), not the whole match; with
   * several, the first that took part in the match.
   */
  groups?: readonly number[];
  /** Rejects look-alikes (checksums, ranges); receives the matched or grouped text. */
  accept?: (value: string, match: RegExpExecArray) => boolean;
}

/** One `exec` pass over the text; the patterns are bounded, so the pass is linear. */
export function* regexCandidates(text: string, detection: RegexDetection): Iterable<PiiCandidate> {
  const pattern = new RegExp(detection.pattern.source, detection.pattern.flags);
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const span = spanOf(match, detection.groups);
    if (!span) continue;
    const value = text.slice(span[0], span[1]);
    if (detection.accept && !detection.accept(value, match)) continue;
    yield {
      type: detection.type,
      start: span[0],
      end: span[1],
      detector: detection.detector,
      priority: detection.priority,
    };
  }
}

function spanOf(
  match: RegExpExecArray,
  groups: readonly number[] | undefined,
): [number, number] | undefined {
  if (groups === undefined) return [match.index, match.index + match[0].length];
  for (const group of groups) {
    const indices = match.indices?.[group];
    if (indices && indices[1] > indices[0]) return [indices[0], indices[1]];
  }
  return undefined;
}

/** The value without the separators people put in long numbers. */
export function compact(value: string): string {
  return value.replace(/[\s\-.()/]/g, '');
}
