/** One fused result: the summed weighted reciprocal ranks, and the 1-based rank in each input ranking. */
export interface FusedResult {
  id: string;
  score: number;
  /** Aligned with the rankings given; undefined where the id was absent. */
  ranks: Array<number | undefined>;
}

export interface ReciprocalRankFusionOptions {
  /** Damps the weight of the top ranks (default 60, as in Cormack et al. 2009). */
  k?: number;
  /** One weight per ranking (default 1 each). */
  weights?: readonly number[];
}

/**
 * Reciprocal rank fusion: `score(id) = Σ weight_i / (k + rank_i(id))` over the rankings the
 * id appears in (ranks from 1; a repeat of an id within one ranking is ignored). Ordered by
 * score, ties broken by the best single rank, then by first appearance (ranking by
 * ranking, top to bottom), so equal inputs always give the same order.
 */
export function reciprocalRankFusion(
  rankings: ReadonlyArray<ReadonlyArray<{ id: string }>>,
  options: ReciprocalRankFusionOptions = {},
): FusedResult[] {
  const k = options.k ?? 60;
  if (!Number.isFinite(k) || k < 0)
    throw new RangeError('k must be a finite number of at least 0.');
  const weights = options.weights ?? rankings.map(() => 1);
  if (weights.length !== rankings.length)
    throw new RangeError('weights must have one weight per ranking.');
  const fused = new Map<string, FusedResult & { order: number; bestRank: number }>();
  rankings.forEach((ranking, rankingIndex) => {
    const weight = weights[rankingIndex] ?? 1;
    ranking.forEach(({ id }, position) => {
      let result = fused.get(id);
      if (!result) {
        result = {
          id,
          score: 0,
          ranks: rankings.map(() => undefined),
          order: fused.size,
          bestRank: Infinity,
        };
        fused.set(id, result);
      }
      if (result.ranks[rankingIndex] !== undefined) return;
      const rank = position + 1;
      result.ranks[rankingIndex] = rank;
      result.score += weight / (k + rank);
      result.bestRank = Math.min(result.bestRank, rank);
    });
  });
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || a.order - b.order)
    .map(({ id, score, ranks }) => ({ id, score, ranks }));
}

/** The cosine of the angle between two vectors of the same length; 0 when either is zero. */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length)
    throw new RangeError(`Vectors differ in length: ${a.length} and ${b.length}.`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index += 1) {
    const x = a[index] ?? 0;
    const y = b[index] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

export interface NearestResult {
  id: string;
  /** Cosine similarity to the query. */
  score: number;
}

/**
 * Exact k-nearest neighbours by cosine similarity, for stores without a vector index
 * (the embedded PostgreSQL has no pgvector). One pass over the vectors, a bounded heap of
 * the best k; ties keep the input order.
 */
export function exactNearest(
  query: Float32Array,
  vectors: ReadonlyArray<{ id: string; vector: Float32Array }>,
  k: number,
): NearestResult[] {
  if (k <= 0) return [];
  const queryNorm = Math.sqrt(dotProduct(query, query));
  const heap = new BoundedMinHeap(k);
  vectors.forEach(({ id, vector }, order) => {
    if (vector.length !== query.length) {
      throw new RangeError(
        `Vector ${id} has ${vector.length} dimensions; the query has ${query.length}.`,
      );
    }
    const norm = Math.sqrt(dotProduct(vector, vector));
    const score =
      norm === 0 || queryNorm === 0 ? 0 : dotProduct(query, vector) / (norm * queryNorm);
    heap.offer({ id, score, order });
  });
  return heap
    .drain()
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ id, score }) => ({ id, score }));
}

function dotProduct(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index += 1) sum += (a[index] ?? 0) * (b[index] ?? 0);
  return sum;
}

interface HeapEntry {
  id: string;
  score: number;
  order: number;
}

/** Keeps the k best entries; the root is the worst kept (lowest score, latest on ties). */
class BoundedMinHeap {
  readonly #capacity: number;
  readonly #entries: HeapEntry[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  offer(entry: HeapEntry): void {
    if (this.#entries.length < this.#capacity) {
      this.#entries.push(entry);
      this.#siftUp(this.#entries.length - 1);
    } else if (worse(this.#at(0), entry)) {
      this.#entries[0] = entry;
      this.#siftDown(0);
    }
  }

  drain(): HeapEntry[] {
    return this.#entries.splice(0);
  }

  #siftUp(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!worse(this.#at(child), this.#at(parent))) return;
      this.#swap(child, parent);
      child = parent;
    }
  }

  #siftDown(index: number): void {
    let parent = index;
    for (;;) {
      let worst = parent;
      for (const child of [2 * parent + 1, 2 * parent + 2]) {
        if (child < this.#entries.length && worse(this.#at(child), this.#at(worst))) worst = child;
      }
      if (worst === parent) return;
      this.#swap(parent, worst);
      parent = worst;
    }
  }

  #at(index: number): HeapEntry {
    const entry = this.#entries[index];
    if (!entry) throw new RangeError(`No heap entry ${index}.`);
    return entry;
  }

  #swap(a: number, b: number): void {
    const entry = this.#at(a);
    this.#entries[a] = this.#at(b);
    this.#entries[b] = entry;
  }
}

/** Whether `a` ranks below `b`: a lower score, or an equal score seen later. */
function worse(a: HeapEntry, b: HeapEntry): boolean {
  return a.score < b.score || (a.score === b.score && a.order > b.order);
}
