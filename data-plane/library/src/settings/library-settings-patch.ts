import { LibraryRequestError } from '../http/library-requests.ts';
import { assertLicensePolicy, LicenseError, type LicensePolicy } from '../licensing/index.ts';

/** How long originals (the uploaded bytes, before redaction) are kept. */
export interface RetentionSettings {
  /** Whether the original upload is kept (encrypted) beside the redacted text. */
  keepOriginals: boolean;
  /** Days an original is kept; `null`: as long as its version. Always `null` when not kept. */
  originalsRetentionDays: number | null;
}

/** An embedding provider as a tenant configures it (the API key only ever goes in). */
export type EmbeddingSettingsPatch =
  | { provider: 'lexical-hash' }
  | {
      provider: 'openai-compatible';
      /** http(s), no credentials, query or fragment; stored without a trailing slash. */
      baseUrl: string;
      model: string;
      dimensions: number;
      /** A new key; `null` removes the stored one; absent keeps it while `baseUrl` is unchanged. */
      apiKey?: string | null;
    };

/** A checked settings change: each setting given replaces that setting whole. */
export interface LibrarySettingsPatch {
  licensePolicy?: LicensePolicy;
  retention?: RetentionSettings;
  nearDuplicateThreshold?: number;
  embeddings?: EmbeddingSettingsPatch;
}

/** The settings a patch may name. */
export const LIBRARY_SETTING_NAMES = [
  'licensePolicy',
  'retention',
  'nearDuplicateThreshold',
  'embeddings',
] as const;

/** Bounds a newcomer would ask about. */
export const SETTINGS_BOUNDS = {
  nearDuplicateThreshold: { min: 0.5, max: 1 },
  originalsRetentionDays: { min: 1, max: 36_500 },
  /** pgvector's HNSW index takes vectors of at most 2000 dimensions. */
  dimensions: { min: 1, max: 2_000 },
  licensePatterns: 500,
} as const;

type FieldErrors = Array<{ path: string; message: string }>;
type JsonObject = Record<string, unknown>;

/**
 * Checks a settings patch strictly: unknown keys, wrong types, out-of-range numbers, bad URLs
 * and licence patterns the licensing module does not accept are all reported at once.
 *
 * @throws {LibraryRequestError} 400 `validation-error` with `errors[].path` such as
 *   `embeddings.baseUrl` or `licensePolicy.training.allow[2]`
 */
export function parseLibrarySettingsPatch(patch: unknown): LibrarySettingsPatch {
  const errors: FieldErrors = [];
  const parsed: LibrarySettingsPatch = {};
  const record = objectAt(patch, '', errors);
  if (record) {
    rejectUnknownKeys(record, '', LIBRARY_SETTING_NAMES, errors);
    readSettings(record, parsed, errors);
  }
  if (errors.length > 0) {
    throw LibraryRequestError.invalid('The library settings are invalid.', errors);
  }
  return parsed;
}

/** Each reader reports its own problems, and returns the setting when given and valid. */
function readSettings(record: JsonObject, parsed: LibrarySettingsPatch, errors: FieldErrors): void {
  const licensePolicy = readLicensePolicy(record.licensePolicy, errors);
  const retention = readRetention(record.retention, errors);
  const nearDuplicateThreshold = readNearDuplicateThreshold(record.nearDuplicateThreshold, errors);
  const embeddings = readEmbeddings(record.embeddings, errors);
  if (licensePolicy) parsed.licensePolicy = licensePolicy;
  if (retention) parsed.retention = retention;
  if (nearDuplicateThreshold !== undefined) parsed.nearDuplicateThreshold = nearDuplicateThreshold;
  if (embeddings) parsed.embeddings = embeddings;
}

function readNearDuplicateThreshold(value: unknown, errors: FieldErrors): number | undefined {
  if (value === undefined) return undefined;
  const { min, max } = SETTINGS_BOUNDS.nearDuplicateThreshold;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) {
    return value;
  }
  errors.push({
    path: 'nearDuplicateThreshold',
    message: `must be a number from ${min} to ${max}`,
  });
  return undefined;
}

function readLicensePolicy(value: unknown, errors: FieldErrors): LicensePolicy | undefined {
  if (value === undefined) return undefined;
  const record = objectAt(value, 'licensePolicy', errors);
  if (!record) return undefined;
  const before = errors.length;
  rejectUnknownKeys(record, 'licensePolicy', ['ingest', 'training'], errors);
  const ingest = readLicenseRules(record.ingest, 'licensePolicy.ingest', errors);
  const training = readLicenseRules(record.training, 'licensePolicy.training', errors);
  if (!ingest || !training || errors.length > before) return undefined;
  return { ingest, training };
}

function readLicenseRules(
  value: unknown,
  path: string,
  errors: FieldErrors,
): LicensePolicy['ingest'] | undefined {
  const record = objectAt(value, path, errors);
  if (!record) return undefined;
  rejectUnknownKeys(record, path, ['allow', 'deny'], errors);
  const rules: { allow?: string[]; deny?: string[] } = {};
  for (const list of ['allow', 'deny'] as const) {
    const patterns = readPatterns(record[list], `${path}.${list}`, errors);
    if (patterns) rules[list] = patterns;
  }
  return rules;
}

/** A list of licence patterns, each checked by the licensing module's own policy check. */
function readPatterns(value: unknown, path: string, errors: FieldErrors): string[] | undefined {
  if (value === undefined) return undefined;
  const max = SETTINGS_BOUNDS.licensePatterns;
  if (!Array.isArray(value) || value.length > max) {
    errors.push({ path, message: `must be an array of at most ${max} licence patterns` });
    return undefined;
  }
  value.forEach((pattern: unknown, index) => {
    const message = licensePatternProblem(pattern);
    if (message) errors.push({ path: `${path}[${index}]`, message });
  });
  return value as string[];
}

function licensePatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 200) {
    return 'must be a licence pattern of 1 to 200 characters';
  }
  try {
    assertLicensePolicy({ ingest: { allow: [pattern] }, training: {} });
    return undefined;
  } catch (error) {
    if (!(error instanceof LicenseError)) throw error;
    return `"${pattern}" is not an SPDX licence identifier, LicenseRef-…, NONE, NOASSERTION or prefix*`;
  }
}

function readRetention(value: unknown, errors: FieldErrors): RetentionSettings | undefined {
  if (value === undefined) return undefined;
  const record = objectAt(value, 'retention', errors);
  if (!record) return undefined;
  const before = errors.length;
  rejectUnknownKeys(record, 'retention', ['keepOriginals', 'originalsRetentionDays'], errors);
  const { keepOriginals, originalsRetentionDays: days = null } = record;
  if (typeof keepOriginals !== 'boolean') {
    errors.push({ path: 'retention.keepOriginals', message: 'must be true or false' });
  }
  const { min, max } = SETTINGS_BOUNDS.originalsRetentionDays;
  if (days !== null && !isIntegerIn(days, min, max)) {
    errors.push({
      path: 'retention.originalsRetentionDays',
      message: `must be an integer from ${min} to ${max}, or null to keep originals as long as their version`,
    });
  } else if (days !== null && keepOriginals === false) {
    errors.push({
      path: 'retention.originalsRetentionDays',
      message: 'must be null when keepOriginals is false',
    });
  }
  if (errors.length > before) return undefined;
  return { keepOriginals: keepOriginals as boolean, originalsRetentionDays: days as number | null };
}

function readEmbeddings(value: unknown, errors: FieldErrors): EmbeddingSettingsPatch | undefined {
  if (value === undefined) return undefined;
  const record = objectAt(value, 'embeddings', errors);
  if (!record) return undefined;
  if (record.provider === 'lexical-hash') {
    const before = errors.length;
    rejectUnknownKeys(record, 'embeddings', ['provider'], errors);
    return errors.length > before ? undefined : { provider: 'lexical-hash' };
  }
  if (record.provider === 'openai-compatible') return readOpenAiCompatible(record, errors);
  errors.push({
    path: 'embeddings.provider',
    message: 'must be "lexical-hash" or "openai-compatible"',
  });
  return undefined;
}

function readOpenAiCompatible(
  record: JsonObject,
  errors: FieldErrors,
): EmbeddingSettingsPatch | undefined {
  const before = errors.length;
  const known = ['provider', 'baseUrl', 'model', 'dimensions', 'apiKey'];
  rejectUnknownKeys(record, 'embeddings', known, errors);
  const baseUrl = readBaseUrl(record.baseUrl, errors);
  const { model, dimensions, apiKey } = record;
  if (typeof model !== 'string' || !/^[^\p{Cc}]{1,200}$/u.test(model)) {
    errors.push({
      path: 'embeddings.model',
      message: 'must be a model name of 1 to 200 characters',
    });
  }
  const { min, max } = SETTINGS_BOUNDS.dimensions;
  if (!isIntegerIn(dimensions, min, max)) {
    errors.push({
      path: 'embeddings.dimensions',
      message: `must be an integer from ${min} to ${max} (the vector index's limit)`,
    });
  }
  if (apiKey !== undefined && apiKey !== null && !isApiKey(apiKey)) {
    errors.push({
      path: 'embeddings.apiKey',
      message: 'must be 1 to 4096 printable characters without spaces, or null to remove it',
    });
  }
  if (errors.length > before || baseUrl === undefined) return undefined;
  const settings: EmbeddingSettingsPatch = {
    provider: 'openai-compatible',
    baseUrl,
    model: model as string,
    dimensions: dimensions as number,
  };
  if (apiKey !== undefined) settings.apiKey = apiKey as string | null;
  return settings;
}

/**
 * An http(s) URL with no credentials (the key travels apart, encrypted), no query or fragment
 * (the path `/v1/embeddings` is appended), and not a link-local address (a cloud metadata
 * endpoint). Returned normalised, without trailing slashes.
 */
function readBaseUrl(value: unknown, errors: FieldErrors): string | undefined {
  const problem = baseUrlProblem(value);
  if (problem === undefined && typeof value === 'string')
    return new URL(value).href.replace(/\/+$/, '');
  errors.push({ path: 'embeddings.baseUrl', message: problem ?? 'must be a URL' });
  return undefined;
}

function baseUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2_000 || !URL.canParse(value)) {
    return 'must be an absolute http(s) URL of at most 2000 characters';
  }
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (`${url.username}${url.password}` !== '') {
    return 'must not hold credentials: give the API key as embeddings.apiKey';
  }
  if (`${url.search}${url.hash}` !== '') return 'must not have a query or a fragment';
  return isLinkLocal(url.hostname) ? 'must not be a link-local address' : undefined;
}

/** 169.254.0.0/16 and fe80::/10: where clouds answer with instance credentials. */
function isLinkLocal(hostname: string): boolean {
  return /^(?:169\.254\.|\[fe[89ab][0-9a-f]:)/i.test(hostname);
}

function isApiKey(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7e]{1,4096}$/.test(value);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function objectAt(value: unknown, path: string, errors: FieldErrors): JsonObject | undefined {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return value as JsonObject;
  }
  errors.push({ path, message: value === undefined ? 'is required' : 'must be a JSON object' });
  return undefined;
}

function rejectUnknownKeys(
  record: JsonObject,
  path: string,
  known: readonly string[],
  errors: FieldErrors,
): void {
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) {
      errors.push({
        path: path === '' ? key : `${path}.${key}`,
        message: `is not a known setting (expected ${known.join(', ')})`,
      });
    }
  }
}
