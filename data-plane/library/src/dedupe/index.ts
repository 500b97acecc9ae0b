export { contentDigest, normalizeForDigest } from './content-digest.ts';
export {
  DEFAULT_MINHASH_SEED,
  estimateJaccard,
  minhashSignature,
  type MinhashOptions,
  signatureFromBase64,
  signatureToBase64,
} from './minhash-signature.ts';
export {
  bandsAndRows,
  createNearDuplicateIndex,
  type NearDuplicateIndex,
  type NearDuplicateIndexOptions,
  type NearDuplicateMatch,
} from './near-duplicate-index.ts';
export {
  LOWEST_NEAR_DUPLICATE_THRESHOLD,
  minhashBands,
  PERSISTED_BANDING,
  type MinhashBand,
} from './minhash-bands.ts';
