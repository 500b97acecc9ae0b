import { createHash } from 'node:crypto';
import { bandsAndRows } from './near-duplicate-index.ts';

/** The lowest near-duplicate threshold a tenant may configure. */
export const LOWEST_NEAR_DUPLICATE_THRESHOLD = 0.5;

/**
 * The banding of the LSH index kept in the tenant's database: chosen for the lowest
 * threshold a tenant may set, so one index finds candidates for every threshold (a higher
 * threshold only rejects more candidates when the full signatures are compared).
 */
export const PERSISTED_BANDING = bandsAndRows(LOWEST_NEAR_DUPLICATE_THRESHOLD, 128);

/** One LSH bucket: the band's number and a signed 64-bit hash of its rows. */
export interface MinhashBand {
  band: number;
  /** A `bigint` column's value, as text. */
  bucket: string;
}

/** The bucket of every band of a 128-hash signature (`PERSISTED_BANDING`). */
export function minhashBands(
  signature: Uint32Array,
  banding: { bands: number; rows: number } = PERSISTED_BANDING,
): MinhashBand[] {
  const bands: MinhashBand[] = [];
  for (let band = 0; band < banding.bands; band += 1) {
    const rows = signature.subarray(band * banding.rows, (band + 1) * banding.rows);
    const digest = createHash('sha256')
      .update(Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength))
      .digest();
    bands.push({ band, bucket: digest.readBigInt64BE(0).toString() });
  }
  return bands;
}
