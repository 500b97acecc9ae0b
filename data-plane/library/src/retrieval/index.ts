export {
  cosineSimilarity,
  exactNearest,
  type FusedResult,
  type NearestResult,
  reciprocalRankFusion,
  type ReciprocalRankFusionOptions,
} from './fusion.ts';
