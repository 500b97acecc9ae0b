/**
 * Whether a live object still is what the operator applied, pure. The operator compares
 * only what it sets: every field of the desired object must be in the live one with an
 * equal value; what the API server or other controllers add (defaults, status, a `replicas`
 * the autoscaler owns, `clusterIP`) is not drift.
 */

const QUANTITY =
  /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|(n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

const BINARY_SUFFIX: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL_EXPONENT: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/**
 * The value of a Kubernetes resource quantity (`500m`, `1Gi`, `2e3`), or undefined when
 * `text` is not one. The API server writes quantities back in canonical form (`1024Mi`
 * reads back as `1Gi`, `0.5` as `500m`), so they are compared by value.
 */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, number, binary, decimal, exponent] = match;
  const value = Number(number);
  if (binary !== undefined) return value * (BINARY_SUFFIX[binary] ?? Number.NaN);
  if (decimal !== undefined) return value * 10 ** (DECIMAL_EXPONENT[decimal] ?? Number.NaN);
  if (exponent !== undefined) return value * 10 ** Number(exponent);
  return value;
}

function equalScalars(desired: unknown, live: unknown): boolean {
  if (desired === live) return true;
  if (typeof desired === 'string' && typeof live === 'string') {
    const a = parseQuantity(desired);
    const b = parseQuantity(live);
    return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The paths (`spec.template.spec.containers[0].image`) at which `live` lacks or differs from
 * `desired`. Objects: every desired key must match; arrays: same length, items compared in
 * order (the API server keeps the order of lists it is given).
 */
export function findDifferences(desired: unknown, live: unknown, path = ''): string[] {
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return [path || '.'];
    return desired.flatMap((item, index) =>
      findDifferences(item, live[index], `${path}[${index}]`),
    );
  }
  if (isRecord(desired)) {
    if (!isRecord(live)) return [path || '.'];
    return Object.entries(desired).flatMap(([key, value]) =>
      findDifferences(value, live[key], path === '' ? key : `${path}.${key}`),
    );
  }
  return equalScalars(desired, live) ? [] : [path || '.'];
}

/** A Kubernetes object as far as drift is concerned. */
export interface ComparableObject {
  kind?: string;
  metadata?: { name?: string; deletionTimestamp?: unknown };
}

/** `Kind/name`, the way drift is reported in conditions and logs. */
export function objectKey(object: ComparableObject): string {
  return `${object.kind ?? 'Object'}/${object.metadata?.name ?? ''}`;
}

/**
 * Which desired objects are missing, being deleted or changed in `live` (matched by kind and
 * name), as `Kind/name`. Status and server-set metadata are never compared.
 */
export function findDrift(
  desired: readonly ComparableObject[],
  live: ReadonlyMap<string, ComparableObject>,
): string[] {
  return desired.flatMap((object) => {
    const key = objectKey(object);
    const found = live.get(key);
    if (!found || found.metadata?.deletionTimestamp !== undefined) return [key];
    return findDifferences(withoutStatus(object), found).length > 0 ? [key] : [];
  });
}

function withoutStatus(object: ComparableObject): object {
  const { status: _status, ...rest } = object as ComparableObject & { status?: unknown };
  return rest;
}
