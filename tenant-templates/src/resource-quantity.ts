import { TenantTemplateError } from './tenant-template-error.ts';

const MEBIBYTE = 1024 ** 2;

const BINARY_SUFFIXES: Readonly<Record<string, number>> = {
  Ki: 1024,
  Mi: MEBIBYTE,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
};

/** Millicores in a CPU quantity such as `2`, `0.5` or `250m`. */
export function parseCpuMillis(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity);
  if (!match?.[1]) {
    throw new TenantTemplateError('invalid-parameter', `not a CPU quantity: ${quantity}`);
  }
  const value = Number(match[1]);
  return Math.floor(match[2] === 'm' ? value : value * 1000);
}

/** Bytes in a binary quantity such as `4Gi` or `2Ti` (the suffixes plans use). */
export function parseBinaryBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti|Pi)?$/.exec(quantity);
  if (!match?.[1]) {
    throw new TenantTemplateError('invalid-parameter', `not a binary quantity: ${quantity}`);
  }
  return Number(match[1]) * (match[2] ? (BINARY_SUFFIXES[match[2]] ?? 1) : 1);
}

/** `2000` → `2`, `250` → `250m`. */
export function formatCpuMillis(millis: number): string {
  return millis % 1000 === 0 ? `${millis / 1000}` : `${millis}m`;
}

/** Whole mebibytes, as `Gi` when exact: `1024 Mi` → `1Gi`, `341 Mi` → `341Mi`. */
export function formatMebibytes(mebibytes: number): string {
  return mebibytes % 1024 === 0 ? `${mebibytes / 1024}Gi` : `${mebibytes}Mi`;
}

/** Whole mebibytes in `bytes`, rounded down. */
export function bytesToMebibytes(bytes: number): number {
  return Math.floor(bytes / MEBIBYTE);
}
