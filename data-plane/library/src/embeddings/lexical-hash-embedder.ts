import { type EmbeddingProvider, type EmbedOptions } from './embedding-provider.ts';

export interface LexicalHashEmbedderOptions {
  /** Default 384. */
  dimensions?: number;
}

/** Word unigrams carry the most meaning; bigrams add phrase order, trigrams spelling variants. */
const FEATURE_WEIGHTS = { word: 1, bigram: 0.7, trigram: 0.35 } as const;

/**
 * An offline embedder with no model: feature hashing of the normalised text's word
 * unigrams, word bigrams and character trigrams (of each word padded with spaces). Each
 * feature is hashed to a dimension with a sign taken from the same hash (so collisions
 * cancel out on average), weighted by sublinear term frequency (1 + ln tf), and the vector
 * is L2-normalised, so a dot product is a cosine similarity. Deterministic: the same text
 * gives the same vector on every machine. It captures shared words, phrases and spellings,
 * not meaning: synonyms do not meet. The empty text gives the zero vector.
 */
export function createLexicalHashEmbedder(
  options: LexicalHashEmbedderOptions = {},
): EmbeddingProvider {
  const dimensions = options.dimensions ?? 384;
  if (!Number.isInteger(dimensions) || dimensions < 1)
    throw new RangeError('dimensions must be a positive integer.');
  return {
    id: 'lexical-hash',
    model: 'lexical-hash-v1',
    dimensions,
    embed: (texts: string[], embedOptions?: EmbedOptions) =>
      new Promise<Float32Array[]>((resolve) => {
        embedOptions?.signal?.throwIfAborted();
        resolve(texts.map((text) => lexicalHashVector(text, dimensions)));
      }),
  };
}

/** The vector of one text; exported for callers that embed synchronously (a query). */
export function lexicalHashVector(text: string, dimensions: number): Float32Array {
  const counts = featureCounts(normaliseWords(text));
  const vector = new Float32Array(dimensions);
  for (const [feature, { count, weight }] of counts) {
    const hash = hashFeature(feature);
    const sign = hash & 0x80000000 ? -1 : 1;
    const index = (hash & 0x7fffffff) % dimensions;
    vector[index] = (vector[index] ?? 0) + sign * weight * (1 + Math.log(count));
  }
  return normalise(vector);
}

/** NFKC, lower case, diacritics removed; words are runs of letters and digits. */
function normaliseWords(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFKC')
    .toLowerCase();
  return folded.match(/[\p{L}\p{N}]+/gu) ?? [];
}

function featureCounts(words: readonly string[]): Map<string, { count: number; weight: number }> {
  const counts = new Map<string, { count: number; weight: number }>();
  const add = (feature: string, weight: number): void => {
    const entry = counts.get(feature);
    if (entry) entry.count += 1;
    else counts.set(feature, { count: 1, weight });
  };
  words.forEach((word, position) => {
    add(`w:${word}`, FEATURE_WEIGHTS.word);
    const next = words[position + 1];
    if (next !== undefined) add(`b:${word} ${next}`, FEATURE_WEIGHTS.bigram);
    const padded = ` ${word} `;
    for (let start = 0; start + 3 <= padded.length; start += 1) {
      add(`c:${padded.slice(start, start + 3)}`, FEATURE_WEIGHTS.trigram);
    }
  });
  return counts;
}

/** FNV-1a over UTF-16 code units, then MurmurHash3's finaliser so every bit (the sign too) mixes. */
function hashFeature(feature: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < feature.length; index += 1) {
    hash = Math.imul(hash ^ feature.charCodeAt(index), 0x01000193);
  }
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let index = 0; index < vector.length; index += 1)
    vector[index] = (vector[index] ?? 0) * scale;
  return vector;
}
