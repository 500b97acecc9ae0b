import { estimateJaccard } from './minhash-signature.ts';

export interface NearDuplicateIndexOptions {
  /** Least estimated Jaccard similarity a match must have. Default 0.85. */
  threshold?: number;
  /** Signature length the index takes. Default 128. */
  numHashes?: number;
  /** Bands and rows per band (bands × rows ≤ numHashes); chosen from the threshold when absent. */
  bands?: number;
  rows?: number;
}

export interface NearDuplicateMatch {
  id: string;
  similarity: number;
}

/** An in-memory locality-sensitive hashing index over MinHash signatures. */
export interface NearDuplicateIndex {
  readonly threshold: number;
  readonly bands: number;
  readonly rows: number;
  readonly size: number;
  /** Adds or replaces the signature of `id`. */
  add(id: string, signature: ArrayLike<number>): void;
  remove(id: string): boolean;
  /** Indexed signatures at or above the threshold, most similar first, then by id. */
  query(signature: ArrayLike<number>): NearDuplicateMatch[];
}

/**
 * Banded LSH: a signature is cut into `bands` bands of `rows` values, and two signatures
 * are candidates when any band is equal. Candidates are then checked against the threshold
 * with the full signature, so the banding decides only recall and cost, never precision.
 */
export function createNearDuplicateIndex(
  options: NearDuplicateIndexOptions = {},
): NearDuplicateIndex {
  const threshold = options.threshold ?? 0.85;
  const numHashes = options.numHashes ?? 128;
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError('threshold must be in (0, 1]');
  const { bands, rows } = bandsAndRows(threshold, numHashes, options);
  const buckets = Array.from({ length: bands }, () => new Map<string, Set<string>>());
  const signatures = new Map<string, Uint32Array>();

  const bandKeys = (signature: Uint32Array): string[] =>
    buckets.map((_, band) => signature.subarray(band * rows, (band + 1) * rows).join(','));

  const checked = (signature: ArrayLike<number>): Uint32Array => {
    if (signature.length !== numHashes) {
      throw new RangeError(
        `the index takes signatures of ${numHashes} hashes, not ${signature.length}`,
      );
    }
    return Uint32Array.from(signature);
  };

  const remove = (id: string): boolean => {
    const existing = signatures.get(id);
    if (!existing) return false;
    bandKeys(existing).forEach((key, band) => buckets[band]?.get(key)?.delete(id));
    return signatures.delete(id);
  };

  return {
    threshold,
    bands,
    rows,
    get size() {
      return signatures.size;
    },
    add(id, signature) {
      const stored = checked(signature);
      remove(id);
      signatures.set(id, stored);
      bandKeys(stored).forEach((key, band) => {
        const bucket = buckets[band];
        const members = bucket?.get(key) ?? new Set<string>();
        members.add(id);
        bucket?.set(key, members);
      });
    },
    remove,
    query(signature) {
      const probe = checked(signature);
      const candidates = new Set<string>();
      bandKeys(probe).forEach((key, band) =>
        buckets[band]?.get(key)?.forEach((id) => candidates.add(id)),
      );
      const matches: NearDuplicateMatch[] = [];
      for (const id of candidates) {
        const stored = signatures.get(id);
        const similarity = stored ? estimateJaccard(probe, stored) : 0;
        if (similarity >= threshold) matches.push({ id, similarity });
      }
      return matches.sort(
        (a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    },
  };
}

/**
 * Given bands and rows, or the pair whose S-curve midpoint `(1/bands)^(1/rows)` sits a
 * little under the threshold: pairs at the threshold are then found with high probability
 * (missing a duplicate costs more than checking a candidate).
 */
export function bandsAndRows(
  threshold: number,
  numHashes: number,
  options: { bands?: number; rows?: number } = {},
): { bands: number; rows: number } {
  if (options.bands !== undefined || options.rows !== undefined) {
    return explicitBandsAndRows(numHashes, options);
  }
  const target = threshold * 0.9;
  let best = { bands: numHashes, rows: 1, distance: Number.POSITIVE_INFINITY };
  for (let rows = 1; rows <= numHashes; rows += 1) {
    const bands = Math.floor(numHashes / rows);
    const distance = Math.abs((1 / bands) ** (1 / rows) - target);
    if (distance < best.distance) best = { bands, rows, distance };
  }
  return { bands: best.bands, rows: best.rows };
}

function explicitBandsAndRows(
  numHashes: number,
  options: { bands?: number; rows?: number },
): { bands: number; rows: number } {
  const rows = options.rows ?? Math.floor(numHashes / (options.bands ?? 1));
  const bands = options.bands ?? Math.floor(numHashes / rows);
  if (!(bands >= 1 && rows >= 1 && bands * rows <= numHashes)) {
    throw new RangeError(`bands × rows must be at most ${numHashes}`);
  }
  return { bands, rows };
}
