import { Buffer } from 'node:buffer';
import { normalizeForDigest } from './content-digest.ts';

export interface MinhashOptions {
  /** Signature length; the estimate's standard error is about 1/√numHashes. Default 128. */
  numHashes?: number;
  /** Tokens per shingle. Default 5. */
  shingleSize?: number;
  /** Word shingles (default) or character shingles. */
  shingleUnit?: 'word' | 'char';
  /** Seed of the hash family; signatures compare only under the same seed. */
  seed?: number;
}

/** The default seed of the hash family: fixed, so signatures are stable across processes. */
export const DEFAULT_MINHASH_SEED = 0x5eed_1ab;

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The MinHash signature of a text: for each of `numHashes` hash functions, the least hash
 * over the text's shingles (of its normalised form). The share of equal positions in two
 * signatures estimates the Jaccard similarity of the shingle sets. A text shorter than one
 * shingle is one shingle; an empty text has the all-ones signature.
 */
export function minhashSignature(text: string, options: MinhashOptions = {}): Uint32Array {
  const numHashes = positiveInteger(options.numHashes ?? 128, 'numHashes');
  const shingleSize = positiveInteger(options.shingleSize ?? 5, 'shingleSize');
  const shingles = shingleHashes(
    normalizeForDigest(text),
    shingleSize,
    options.shingleUnit ?? 'word',
  );
  return minimumHashes(shingles, hashSeeds(numHashes, options.seed ?? DEFAULT_MINHASH_SEED));
}

function minimumHashes(shingles: ReadonlySet<number>, seeds: Uint32Array): Uint32Array {
  const signature = new Uint32Array(seeds.length).fill(0xffff_ffff);
  for (const shingle of shingles) {
    seeds.forEach((seed, index) => {
      const value = mix32(shingle ^ seed);
      if (value < (signature[index] ?? 0)) signature[index] = value;
    });
  }
  return signature;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function shingleHashes(normalized: string, size: number, unit: 'word' | 'char'): Set<number> {
  // Characters are code points, so a shingle never splits a surrogate pair.
  const tokens = unit === 'word' ? (normalized.match(WORD) ?? []) : Array.from(normalized);
  const separator = unit === 'word' ? ' ' : '';
  const hashes = new Set<number>();
  if (tokens.length === 0) return hashes;
  const last = Math.max(0, tokens.length - size);
  for (let start = 0; start <= last; start += 1) {
    hashes.add(fnv1a(tokens.slice(start, start + size).join(separator)));
  }
  return hashes;
}

/** FNV-1a over UTF-16 code units: the shingle's 32-bit identity. */
function fnv1a(text: string): number {
  let hash = 0x811c_9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x0100_0193);
  }
  return hash >>> 0;
}

/**
 * MurmurHash3's finaliser: a bijection on 32 bits with full avalanche, so `mix32(x ^ seed)`
 * is a family of permutations, one per seed.
 */
function mix32(value: number): number {
  let hash = value;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85eb_ca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2_ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** The seeds of the family, from a SplitMix32-style generator: deterministic, no Math.random. */
function hashSeeds(count: number, seed: number): Uint32Array {
  const seeds = new Uint32Array(count);
  let state = seed >>> 0;
  for (let index = 0; index < count; index += 1) {
    state = (state + 0x9e37_79b9) >>> 0;
    seeds[index] = mix32(state);
  }
  return seeds;
}

/** The share of positions where two signatures agree: the Jaccard estimate. */
export function estimateJaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `signatures must have the same, non-zero length (${a.length} and ${b.length})`,
    );
  }
  let equal = 0;
  for (let index = 0; index < a.length; index += 1) {
    if (a[index] === b[index]) equal += 1;
  }
  return equal / a.length;
}

/** A signature as base64 of its little-endian 32-bit words, for a text column. */
export function signatureToBase64(signature: ArrayLike<number>): string {
  const bytes = Buffer.alloc(signature.length * 4);
  for (let index = 0; index < signature.length; index += 1) {
    bytes.writeUInt32LE((signature[index] ?? 0) >>> 0, index * 4);
  }
  return bytes.toString('base64');
}

/** The inverse of `signatureToBase64`. */
export function signatureFromBase64(encoded: string): Uint32Array {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length % 4 !== 0) throw new RangeError('a signature is a whole number of 32-bit words');
  const signature = new Uint32Array(bytes.length / 4);
  for (let index = 0; index < signature.length; index += 1) {
    signature[index] = bytes.readUInt32LE(index * 4);
  }
  return signature;
}
