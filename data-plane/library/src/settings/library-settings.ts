import { inTransaction } from '../store/in-transaction.ts';
import type { Pool, PoolClient } from 'pg';
import type { TenantDataCipher } from '@citadel/data-plane-runtime';
import {
  createLexicalHashEmbedder,
  createOpenAiCompatibleEmbedder,
  type EmbeddingProvider,
  type OpenAiCompatibleEmbedderOptions,
} from '../embeddings/index.ts';
import { LibraryRequestError } from '../http/library-requests.ts';
import { DEFAULT_LICENSE_POLICY, type LicensePolicy } from '../licensing/index.ts';
import {
  type EmbeddingSettingsPatch,
  type LibrarySettingsPatch,
  parseLibrarySettingsPatch,
  type RetentionSettings,
} from './library-settings-patch.ts';

export type { RetentionSettings } from './library-settings-patch.ts';

/** The embedding provider as the tenant reads it back: the API key is never shown. */
export type EmbeddingSettings =
  | { provider: 'lexical-hash' }
  | {
      provider: 'openai-compatible';
      baseUrl: string;
      model: string;
      dimensions: number;
      /** Whether an API key is stored (encrypted with the tenant's data key). */
      apiKeyConfigured: boolean;
    };

/** The embedding provider with its encrypted key: what {@link embeddingProviderFor} builds from. */
export type StoredEmbeddingSettings =
  | { provider: 'lexical-hash' }
  | {
      provider: 'openai-compatible';
      baseUrl: string;
      model: string;
      dimensions: number;
      /** The key sealed by the tenant's data cipher; absent when none is configured. */
      apiKeyEnvelope?: Buffer;
    };

/** A tenant's library settings, with the revision that guards concurrent changes. */
export interface LibrarySettings {
  /** Which licences may be ingested, and which used for training. */
  licensePolicy: LicensePolicy;
  retention: RetentionSettings;
  /** Near-duplicates are reported at or above this estimated Jaccard similarity (0.5–1). */
  nearDuplicateThreshold: number;
  embeddings: EmbeddingSettings;
  /** 0 until the settings are first changed; one more on every change. */
  revision: number;
  /** The strong entity tag of this revision, for `If-Match` (`"3"`). */
  etag: string;
  /** ISO 8601; absent while the defaults apply. */
  updatedAt?: string;
  /** Who made the last change (`user:<id>`, `api-key:<id>`, `operator`). */
  updatedBy?: string;
}

export interface UpdateLibrarySettingsOptions {
  /** The `If-Match` header as sent: a list of entity tags, or `*`. A mismatch is a 412. */
  ifMatch?: string;
  /**
   * Allows changing the embedding model or dimensions while chunks exist: the caller then
   * re-embeds every chunk (and rebuilds the vector column for new dimensions).
   */
  reindex?: boolean;
}

export interface LibrarySettingsUpdate {
  settings: LibrarySettings;
  /**
   * The provider, model or dimensions changed: stored vectors no longer match queries and
   * must be rebuilt. Changing only the base URL or the API key is not such a change.
   */
  embeddingChanged: boolean;
}

export interface LibrarySettingsStore {
  /** The settings, or the defaults while none were saved. Never holds the API key. */
  get(): Promise<LibrarySettings>;
  /** The embedding provider with its sealed key, for {@link embeddingProviderFor}. */
  embeddingSettings(): Promise<StoredEmbeddingSettings>;
  /**
   * Applies a patch: each setting given (`licensePolicy`, `retention`,
   * `nearDuplicateThreshold`, `embeddings`) replaces that setting whole. Nothing is written
   * when it is refused.
   *
   * For `embeddings` of `openai-compatible`: `apiKey: "…"` stores a new key (encrypted),
   * `apiKey: null` removes it, and leaving it out keeps the stored key only while the provider
   * and `baseUrl` stay the same (a key is never sent to a host it was not given for).
   *
   * @throws {LibraryRequestError} 400 `validation-error` (with `errors[].path`), 412
   *   `precondition-failed` (`ifMatch` is not the current etag), 409 `data-cipher-unavailable`
   *   (an API key, and this host has no tenant data key to seal it with), 409
   *   `reindex-required` (the embedding model or dimensions change while chunks exist, and
   *   `reindex` is not set)
   */
  update(
    patch: unknown,
    updatedBy: string,
    options?: UpdateLibrarySettingsOptions,
  ): Promise<LibrarySettingsUpdate>;
}

/** The settings of a tenant that changed none. */
export const DEFAULT_LIBRARY_SETTINGS = {
  licensePolicy: DEFAULT_LICENSE_POLICY,
  retention: { keepOriginals: false, originalsRetentionDays: null },
  nearDuplicateThreshold: 0.85,
  embeddings: { provider: 'lexical-hash' },
} as const satisfies Omit<LibrarySettings, 'revision' | 'etag' | 'embeddings'> & {
  embeddings: EmbeddingSettings;
};

/** What the `settings` column holds: every setting but the API key, which has its own column. */
interface StoredSettings {
  licensePolicy: LicensePolicy;
  retention: RetentionSettings;
  nearDuplicateThreshold: number;
  embeddings: { provider: 'lexical-hash' } | StoredOpenAiCompatible;
}

interface StoredOpenAiCompatible {
  provider: 'openai-compatible';
  baseUrl: string;
  model: string;
  dimensions: number;
}

interface SettingsRow {
  revision: number;
  settings: Partial<StoredSettings>;
  embedding_api_key: Buffer | null;
  updated_by: string | null;
  updated_at: Date;
}

/** The stored state a change starts from and ends in. */
interface SettingsState {
  revision: number;
  settings: StoredSettings;
  apiKeyEnvelope: Buffer | undefined;
}

/**
 * Creates `library.settings` (one row: the settings as JSON, the sealed API key apart, the
 * revision, who changed it and when) in the tenant's database. Idempotent, and serialised with
 * the library's own schema migration.
 */
export async function ensureLibrarySettingsSchema(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('citadel-library', 0))");
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS library;
      CREATE TABLE IF NOT EXISTS library.settings (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        revision integer NOT NULL,
        settings jsonb NOT NULL,
        embedding_api_key bytea,
        embedding_api_key_version integer,
        updated_by text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The tenant's library settings in its own database (call {@link ensureLibrarySettingsSchema}
 * first). `cipher` seals the embedding provider's API key; without one, a key is refused.
 */
export function createLibrarySettingsStore(
  pool: Pool,
  cipher?: TenantDataCipher,
): LibrarySettingsStore {
  async function readRow(): Promise<SettingsRow | undefined> {
    const { rows } = await pool.query<SettingsRow>(
      `SELECT revision, settings, embedding_api_key, updated_by, updated_at FROM library.settings`,
    );
    return rows[0];
  }

  return {
    async get() {
      return publicSettings(await readRow());
    },

    async embeddingSettings() {
      const row = await readRow();
      const embeddings = storedSettingsOf(row).embeddings;
      if (embeddings.provider === 'lexical-hash' || !row?.embedding_api_key) return embeddings;
      return { ...embeddings, apiKeyEnvelope: row.embedding_api_key };
    },

    async update(patch, updatedBy, options = {}) {
      const parsed = parseLibrarySettingsPatch(patch);
      const apiKey =
        parsed.embeddings?.provider === 'openai-compatible' && parsed.embeddings.apiKey;
      if (apiKey && !cipher) throw dataCipherUnavailable();
      return inTransaction(pool, async (client) => {
        const current = await lockSettings(client);
        assertIfMatch(options.ifMatch, current.revision);
        const next = applyPatch(current, parsed, cipher);
        const embeddingChanged = !sameEmbeddingModel(current.settings, next.settings);
        if (embeddingChanged && !options.reindex && (await chunksExist(client))) {
          throw reindexRequired();
        }
        const row = await writeSettings(client, next, updatedBy, cipher?.activeKeyVersion);
        return { settings: publicSettings(row), embeddingChanged };
      });
    },
  };
}

/**
 * The embedding provider the settings name: the offline lexical-hash embedder (384
 * dimensions), or an OpenAI-compatible server with the API key opened by `cipher`. `options`
 * passes the HTTP client's tuning (timeouts, retries, batch size) through.
 *
 * @throws {LibraryRequestError} 409 `data-cipher-unavailable` when a key is stored and no
 *   cipher is given
 * @throws {TenantDataCipherError} when the key cannot be opened (a key version this host
 *   lacks, or altered bytes)
 */
export function embeddingProviderFor(
  embeddings: StoredEmbeddingSettings,
  cipher: TenantDataCipher | undefined,
  options: Omit<
    OpenAiCompatibleEmbedderOptions,
    'baseUrl' | 'apiKey' | 'model' | 'dimensions'
  > = {},
): EmbeddingProvider {
  if (embeddings.provider === 'lexical-hash') return createLexicalHashEmbedder();
  const { baseUrl, model, dimensions, apiKeyEnvelope } = embeddings;
  const provider: OpenAiCompatibleEmbedderOptions = { ...options, baseUrl, model, dimensions };
  if (apiKeyEnvelope) {
    if (!cipher) throw dataCipherUnavailable();
    provider.apiKey = cipher.decrypt(apiKeyEnvelope, apiKeyContext(baseUrl)).toString('utf8');
  }
  return createOpenAiCompatibleEmbedder(provider);
}

/** The key is sealed to its base URL: moved to another host, it no longer opens. */
function apiKeyContext(baseUrl: string): string {
  return `library.settings/embeddings.apiKey ${baseUrl}`;
}

/**
 * Locks the settings row for this transaction, creating it (revision 0, the defaults) if this
 * is the first change: concurrent first changes queue on it like any other.
 */
async function lockSettings(client: PoolClient): Promise<SettingsState> {
  await client.query(
    `INSERT INTO library.settings (revision, settings) VALUES (0, '{}') ON CONFLICT DO NOTHING`,
  );
  const { rows } = await client.query<SettingsRow>(
    `SELECT revision, settings, embedding_api_key, updated_by, updated_at
       FROM library.settings FOR UPDATE`,
  );
  const row = rows[0];
  return {
    revision: row?.revision ?? 0,
    settings: storedSettingsOf(row),
    apiKeyEnvelope: row?.embedding_api_key ?? undefined,
  };
}

async function writeSettings(
  client: PoolClient,
  next: Omit<SettingsState, 'revision'>,
  updatedBy: string,
  keyVersion: number | undefined,
): Promise<SettingsRow> {
  const { rows } = await client.query<SettingsRow>(
    `UPDATE library.settings
        SET revision = revision + 1, settings = $1, embedding_api_key = $2,
            embedding_api_key_version = $3, updated_by = $4, updated_at = now()
      RETURNING revision, settings, embedding_api_key, updated_by, updated_at`,
    [
      JSON.stringify(next.settings),
      next.apiKeyEnvelope ?? null,
      next.apiKeyEnvelope ? (keyVersion ?? null) : null,
      updatedBy,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error('library.settings lost its row inside the transaction');
  return row;
}

/** The settings and the sealed key once `patch` applies to `current`. */
function applyPatch(
  current: SettingsState,
  patch: LibrarySettingsPatch,
  cipher: TenantDataCipher | undefined,
): Omit<SettingsState, 'revision'> {
  const settings: StoredSettings = { ...current.settings };
  if (patch.licensePolicy) settings.licensePolicy = patch.licensePolicy;
  if (patch.retention) settings.retention = patch.retention;
  if (patch.nearDuplicateThreshold !== undefined) {
    settings.nearDuplicateThreshold = patch.nearDuplicateThreshold;
  }
  if (!patch.embeddings) return { settings, apiKeyEnvelope: current.apiKeyEnvelope };
  settings.embeddings = withoutApiKey(patch.embeddings);
  return {
    settings,
    apiKeyEnvelope: nextApiKeyEnvelope(current, patch.embeddings, cipher),
  };
}

function withoutApiKey(embeddings: EmbeddingSettingsPatch): StoredSettings['embeddings'] {
  if (embeddings.provider === 'lexical-hash') return { provider: 'lexical-hash' };
  const { baseUrl, model, dimensions } = embeddings;
  return { provider: 'openai-compatible', baseUrl, model, dimensions };
}

function nextApiKeyEnvelope(
  current: SettingsState,
  embeddings: EmbeddingSettingsPatch,
  cipher: TenantDataCipher | undefined,
): Buffer | undefined {
  if (embeddings.provider === 'lexical-hash' || embeddings.apiKey === null) return undefined;
  if (embeddings.apiKey !== undefined) {
    if (!cipher) throw dataCipherUnavailable();
    const plaintext = Buffer.from(embeddings.apiKey, 'utf8');
    return cipher.encrypt(plaintext, apiKeyContext(embeddings.baseUrl));
  }
  const previous = current.settings.embeddings;
  const sameHost =
    previous.provider === 'openai-compatible' && previous.baseUrl === embeddings.baseUrl;
  return sameHost ? current.apiKeyEnvelope : undefined;
}

function sameEmbeddingModel(before: StoredSettings, after: StoredSettings): boolean {
  const [a, b] = [before.embeddings, after.embeddings];
  if (a.provider === 'lexical-hash' || b.provider === 'lexical-hash') {
    return a.provider === b.provider;
  }
  return a.model === b.model && a.dimensions === b.dimensions;
}

/** Whether any chunk is stored (the library's tables may not exist yet). */
async function chunksExist(client: PoolClient): Promise<boolean> {
  const { rows } = await client.query<{ present: boolean }>(
    `SELECT to_regclass('library.chunks') IS NOT NULL AS present`,
  );
  if (!rows[0]?.present) return false;
  const found = await client.query<{ found: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM library.chunks) AS found',
  );
  return found.rows[0]?.found === true;
}

/** The stored settings over the defaults: a setting never saved reads as its default. */
function storedSettingsOf(row: SettingsRow | undefined): StoredSettings {
  return { ...DEFAULT_LIBRARY_SETTINGS, ...row?.settings };
}

function publicSettings(row: SettingsRow | undefined): LibrarySettings {
  const stored = storedSettingsOf(row);
  const embeddings: EmbeddingSettings =
    stored.embeddings.provider === 'lexical-hash'
      ? { provider: 'lexical-hash' }
      : { ...stored.embeddings, apiKeyConfigured: row?.embedding_api_key != null };
  const revision = row?.revision ?? 0;
  const settings: LibrarySettings = {
    licensePolicy: stored.licensePolicy,
    retention: stored.retention,
    nearDuplicateThreshold: stored.nearDuplicateThreshold,
    embeddings,
    revision,
    etag: `"${revision}"`,
  };
  if (row && row.revision > 0) {
    settings.updatedAt = row.updated_at.toISOString();
    if (row.updated_by !== null) settings.updatedBy = row.updated_by;
  }
  return settings;
}

/** Strong comparison (RFC 9110 §13.1.1): `*`, or a list of quoted tags one of which matches. */
function assertIfMatch(ifMatch: string | undefined, revision: number): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((tag) => tag.trim());
  if (tags.includes('*') || tags.includes(`"${revision}"`)) return;
  throw new LibraryRequestError({
    type: 'precondition-failed',
    title: 'Precondition Failed',
    status: 412,
    detail: `The library settings changed: they are at "${revision}" now. Read them again and retry.`,
  });
}

function dataCipherUnavailable(): LibraryRequestError {
  return new LibraryRequestError({
    type: 'data-cipher-unavailable',
    title: 'No tenant data key',
    status: 409,
    detail:
      "This data plane holds no tenant data key, so the embedding provider's API key cannot be stored encrypted or read. Configure the tenant's data keys first.",
  });
}

function reindexRequired(): LibraryRequestError {
  return new LibraryRequestError({
    type: 'reindex-required',
    title: 'Reindex required',
    status: 409,
    detail:
      'Changing the embedding provider, model or dimensions makes every stored vector stale. Ask for a reindex with the change.',
  });
}
