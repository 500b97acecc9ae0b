import type { Pool } from 'pg';
import type { HostLogger, RequestPrincipal, TenantDataCipher } from '@citadel/data-plane-runtime';
import {
  createDocumentAccess,
  DocumentAccessDeniedError,
  type DocumentAccess,
} from './access/document-access.ts';
import {
  createExtractiveAnswerProvider,
  type AnswerProvider,
  type ComposedAnswer,
} from './answers/answer-provider.ts';
import { redactText } from './dlp/index.ts';
import type { EmbeddingProvider } from './embeddings/index.ts';
import { createFieldReader, LibraryRequestError } from './http/library-requests.ts';
import { decodeCursor, encodeCursor } from './http/search-cursor.ts';
import { originalAssociatedData, type IngestionPolicy } from './ingestion/ingest-document.ts';
import { readIngestRequest, type IngestRequest } from './ingestion/ingest-request.ts';
import { createIngestionJobs, type IngestionOutcome } from './ingestion/ingestion-jobs.ts';
import type { LicensePolicy } from './licensing/index.ts';
import {
  createLibrarySettingsStore,
  embeddingProviderFor,
  ensureLibrarySettingsSchema,
  type LibrarySettings,
} from './settings/library-settings.ts';
import { createEmbeddingModelStore, embeddingModelKey } from './store/embedding-model.ts';
import { createVectorIndexSync } from './store/vector-index-sync.ts';
import type { VectorIndex } from './vector/index.ts';
import { reciprocalRankFusion } from './retrieval/index.ts';
import { createIngestionJobStore, type IngestionJob } from './store/ingestion-job-store.ts';
import { ensureLibrarySchema, type VectorEngine } from './store/library-schema.ts';
import {
  createLibraryStore,
  type DocumentRecord,
  type RankingScope,
  type SearchFilters,
} from './store/library-store.ts';
import {
  createSnapshotStore,
  SnapshotExistsError,
  type SnapshotRecord,
} from './store/snapshot-store.ts';

export type { IngestResult } from './ingestion/ingest-document.ts';

export interface LibraryOptions {
  pool: Pool;
  logger: HostLogger;
  /** The tenant's id (its Cedar `Tenant` entity) and plan (which platform policies apply). */
  tenantId: string;
  planId?: string;
  /** The tenant's data keys: job inputs and kept originals are encrypted with them. */
  cipher?: TenantDataCipher | undefined;
  /**
   * The options below fix a setting for this library instance (benchmarks, tests, embedders);
   * without them the tenant's saved library settings decide (`GET|PATCH /v1/settings`).
   * Default embedder: the offline lexical-hash embedder, 384 dimensions.
   */
  embedder?: EmbeddingProvider;
  /** Which licences may be ingested and used for training (the tenant's policy). */
  licensePolicy?: LicensePolicy;
  /** Near-duplicates are reported above this estimated Jaccard similarity (default 0.85). */
  nearDuplicateThreshold?: number;
  /** Chunk size and overlap in tokens (defaults 400 and 50). */
  chunking?: { maxTokens?: number; overlapTokens?: number };
  /** Keep originals (encrypted, needs `cipher`) and for how long. Default: the settings'. */
  retention?: { keepOriginals: boolean; originalsRetentionDays: number | null };
  /**
   * Builds an external vector index for the embedder's dimensions (Milvus, for tenants whose
   * vector engine is milvus). The tenant database stays the source of truth; the index is
   * kept in step with it.
   */
  vectorIndex?: (dimensions: number) => Promise<VectorIndex>;
  /** Composes answers; default: the offline extractive provider. */
  answers?: AnswerProvider;
  /** How often the worker resumes waiting jobs and purges expired originals (ms; 0: never). */
  workerIntervalMs?: number;
  /** A running job's lease (ms): a job whose process died is resumed after it. */
  jobLeaseMs?: number;
}

export interface SearchHit {
  documentId: string;
  chunkId: string;
  text: string;
  score: number;
  citation: {
    documentId: string;
    version: number;
    title: string;
    start: number;
    end: number;
    headingPath: string[];
  };
}

/** A search as the REST and gRPC APIs both ask it. */
export interface RetrieveRequest {
  query: string;
  limit?: number;
  cursor?: string;
  filters?: SearchFilters;
  /** A snapshot's name: search the knowledge base as it was then. */
  snapshot?: string;
}

export interface SearchPage {
  hits: SearchHit[];
  nextCursor: string | null;
}

export interface Library {
  describe(): Promise<{
    vectorEngine: VectorEngine | 'milvus';
    /** Documents and deletions an external vector index has yet to catch up with. */
    pendingVectorSync: number;
    embedder: { id: string; model: string; dimensions: number };
    /** Chunks waiting to be embedded with the current model (after a change of model). */
    pendingEmbeddings: number;
    originals: { encrypted: boolean; kept: boolean };
  }>;
  settings(principal: RequestPrincipal): Promise<LibrarySettings>;
  updateSettings(
    patch: unknown,
    principal: RequestPrincipal,
    options: { ifMatch?: string | undefined; reindex: boolean },
  ): Promise<LibrarySettings & { pendingEmbeddings: number }>;
  /** Embeds chunks waiting for the current model (the worker does it every interval). */
  embedPending(limit?: number): Promise<number>;
  ingest(
    request: IngestRequest,
    caller: {
      principal: RequestPrincipal;
      idempotencyKey?: string | undefined;
      respondAsync?: boolean;
    },
  ): Promise<IngestionOutcome>;
  job(id: string, principal: RequestPrincipal): Promise<IngestionJob>;
  getDocument(id: string, principal: RequestPrincipal): Promise<DocumentRecord>;
  deleteDocument(id: string, principal: RequestPrincipal): Promise<void>;
  deleteVersion(id: string, version: number, principal: RequestPrincipal): Promise<void>;
  original(
    id: string,
    version: number,
    principal: RequestPrincipal,
  ): Promise<{ mediaType: string; content: Buffer }>;
  search(params: URLSearchParams, principal: RequestPrincipal): Promise<SearchPage>;
  retrieve(request: RetrieveRequest, caller: RequestPrincipal): Promise<SearchPage>;
  answer(body: unknown, principal: RequestPrincipal): Promise<ComposedAnswer>;
  createSnapshot(body: unknown, principal: RequestPrincipal): Promise<SnapshotRecord>;
  listSnapshots(principal: RequestPrincipal): Promise<SnapshotRecord[]>;
  getSnapshot(
    name: string,
    principal: RequestPrincipal,
  ): Promise<SnapshotRecord & { members: Array<{ documentId: string; version: number }> }>;
  deleteSnapshot(name: string, principal: RequestPrincipal): Promise<void>;
  rollback(
    name: string,
    principal: RequestPrincipal,
  ): Promise<{ snapshot: string; changed: number }>;
  /**
   * Throws a 403 problem unless `principal` may read the library's event stream: the
   * tenant's administrators, and API keys with scope `events:read` or `*` (other services).
   */
  requireEventReader(principal: RequestPrincipal): void;
  /** Resumes waiting ingestion jobs now (the worker does it on its own every interval). */
  resumePendingJobs(): Promise<number>;
  close(): Promise<void>;
}

/** Whether a settings patch names the embedding provider. */
function isEmbeddingChange(patch: unknown): boolean {
  return typeof patch === 'object' && patch !== null && 'embeddings' in patch;
}

/** Provenance name of a principal: `user:<id>`, `api-key:<id>`, `operator`. */
export function principalName(principal: RequestPrincipal): string {
  return principal.type === 'operator' ? 'operator' : `${principal.type}:${principal.id}`;
}

function parseDate(value: string | null, name: string): Date | undefined {
  if (value === null) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw LibraryRequestError.invalid(`${name} must be an ISO 8601 date.`, [
      { path: name, message: 'must be an ISO 8601 date' },
    ]);
  }
  return date;
}

/** The filters of a search's query string. */
function filtersOf(params: URLSearchParams): SearchFilters {
  const tags = params.getAll('tag');
  const filters: SearchFilters = {};
  const license = params.get('license');
  const source = params.get('source');
  if (license !== null) filters.license = license;
  if (source !== null) filters.source = source;
  if (tags.length > 0) filters.tags = tags;
  const after = parseDate(params.get('after'), 'after');
  const before = parseDate(params.get('before'), 'before');
  if (after) filters.ingestedAfter = after;
  if (before) filters.ingestedBefore = before;
  return filters;
}

const SNAPSHOT_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

function checkSnapshotName(name: string): void {
  if (!SNAPSHOT_NAME.test(name)) {
    throw LibraryRequestError.invalid('A snapshot name is 1 to 100 of a-z 0-9 . _ -.', [
      { path: 'name', message: 'must match ^[a-z0-9][a-z0-9._-]{0,99}$' },
    ]);
  }
}

/** A refusal as the caller sees it: 404 when it may not even read the document. */
function accessProblem(
  access: DocumentAccess,
  principal: RequestPrincipal,
  document: DocumentRecord,
  action: 'document.read' | 'document.write',
): void {
  if (!access.mayRead(principal, document)) {
    throw LibraryRequestError.notFound(`document ${document.id} does not exist`);
  }
  if (action === 'document.write') {
    try {
      access.require(principal, 'document.write', document);
    } catch (error) {
      if (!(error instanceof DocumentAccessDeniedError)) throw error;
      throw LibraryRequestError.forbidden('You may read this document but not change it.');
    }
  }
}

/**
 * The library of one tenant: ingestion as resumable jobs (parse → redact → licence →
 * dedupe → chunk → embed → one transaction), hybrid search (full-text and vector rankings
 * fused by reciprocal rank) over what the caller may read, answers whose every sentence
 * cites a stored span, snapshots of the knowledge base, and encrypted originals.
 */
export async function createLibrary(options: LibraryOptions): Promise<Library> {
  const cipher = options.cipher;
  await ensureLibrarySettingsSchema(options.pool);
  const settingsStore = createLibrarySettingsStore(options.pool, cipher);
  let embedder =
    options.embedder ?? embeddingProviderFor(await settingsStore.embeddingSettings(), cipher);
  const vectorIndex = await options.vectorIndex?.(embedder.dimensions);
  const engine = await ensureLibrarySchema(options.pool, {
    dimensions: embedder.dimensions,
    externalIndex: vectorIndex !== undefined,
  });
  const store = createLibraryStore(options.pool, engine, vectorIndex);
  const vectorSync = vectorIndex ? createVectorIndexSync(options.pool, vectorIndex) : undefined;
  /** Brings the external index up to date for a document now; the worker retries failures. */
  async function syncVectors(documentId: string): Promise<void> {
    try {
      await vectorSync?.syncDocument(documentId);
    } catch (error) {
      options.logger.warn({ documentId, error }, 'vector index behind; the worker will catch up');
    }
  }
  async function syncPendingVectors(): Promise<void> {
    try {
      await vectorSync?.syncPending(100);
    } catch (error) {
      options.logger.warn({ error }, 'vector index unreachable; retrying on the next pass');
    }
  }
  const embeddingModels = createEmbeddingModelStore(options.pool, engine);
  if ((await embeddingModels.adopt(embedder)).reset) {
    options.logger.info(
      { model: embeddingModelKey(embedder) },
      'embedding model changed: re-embedding',
    );
  }
  const snapshots = createSnapshotStore(options.pool);
  const answers = options.answers ?? createExtractiveAnswerProvider();
  const access = createDocumentAccess({
    tenantId: options.tenantId,
    planId: options.planId ?? 'starter',
  });
  /** The tenant's settings, with what the options fix taking precedence. */
  async function policy(): Promise<IngestionPolicy> {
    const saved = await settingsStore.get();
    return {
      licensePolicy: options.licensePolicy ?? saved.licensePolicy,
      nearDuplicateThreshold: options.nearDuplicateThreshold ?? saved.nearDuplicateThreshold,
      retention: options.retention ?? saved.retention,
      embedder,
      chunking: options.chunking ?? {},
    };
  }
  const jobs = createIngestionJobs({
    jobs: createIngestionJobStore(options.pool),
    store,
    policy,
    cipher,
    logger: options.logger,
    ...(options.jobLeaseMs === undefined ? {} : { leaseMs: options.jobLeaseMs }),
  });
  if (engine === 'exact') {
    options.logger.warn(
      {},
      'pgvector is not installed in this database: the library searches vectors exactly, in the service',
    );
  }
  if (!cipher) {
    options.logger.warn(
      {},
      'no tenant data keys: ingestion jobs are stored unencrypted and originals are not kept',
    );
  }

  async function documentOr404(id: string) {
    const document = await store.getDocument(id);
    if (!document) throw LibraryRequestError.notFound(`document ${id} does not exist`);
    return document;
  }

  async function scopeFor(
    principal: RequestPrincipal,
    filters: SearchFilters,
    snapshot: string | undefined,
  ): Promise<RankingScope> {
    if (snapshot !== undefined && !(await snapshots.get(snapshot))) {
      throw LibraryRequestError.notFound(`snapshot ${snapshot} does not exist`);
    }
    return { filters, readable: access.readable(principal), snapshot };
  }

  async function rank(query: string, scope: RankingScope, depth: number): Promise<SearchHit[]> {
    const { readable } = scope;
    if (readable.classifications.length === 0 && readable.ownClassifications.length === 0) {
      return [];
    }
    // A query is redacted like a document before it is embedded (a remote provider must
    // not receive the personal data a user typed) or searched for.
    const safeQuery = redactText(query).text;
    const [queryVector] = await embedder.embed([safeQuery]);
    const [lexical, semantic] = await Promise.all([
      store.fullTextRanking(safeQuery, scope, depth),
      queryVector ? store.vectorRanking(queryVector, scope, depth) : Promise.resolve([]),
    ]);
    const byId = new Map([...semantic, ...lexical].map((chunk) => [chunk.chunkId, chunk]));
    const fused = reciprocalRankFusion([
      lexical.map((chunk) => ({ id: chunk.chunkId })),
      semantic.map((chunk) => ({ id: chunk.chunkId })),
    ]);
    return fused.flatMap((result) => {
      const chunk = byId.get(result.id);
      if (!chunk) return [];
      const hit: SearchHit = {
        documentId: chunk.documentId,
        chunkId: chunk.chunkId,
        text: chunk.text,
        score: Math.round(result.score * 1e6) / 1e6,
        citation: {
          documentId: chunk.documentId,
          version: chunk.version,
          title: chunk.title,
          start: chunk.start,
          end: chunk.end,
          headingPath: chunk.headingPath,
        },
      };
      return [hit];
    });
  }

  async function retrieve(request: RetrieveRequest, principal: RequestPrincipal) {
    const query = request.query.trim();
    if (query === '' || query.length > 1_000) {
      throw LibraryRequestError.invalid('q must be 1 to 1000 characters.', [
        { path: 'q', message: 'must be 1 to 1000 characters' },
      ]);
    }
    const limit = request.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      throw LibraryRequestError.invalid('limit must be an integer from 1 to 50.', [
        { path: 'limit', message: 'must be an integer from 1 to 50' },
      ]);
    }
    if (request.snapshot !== undefined) checkSnapshotName(request.snapshot);
    const filters = request.filters ?? {};
    const binding = { query, filters, snapshot: request.snapshot ?? null };
    const offset = decodeCursor(request.cursor ?? null, binding);
    const scope = await scopeFor(principal, filters, request.snapshot);
    const hits = await rank(query, scope, Math.min(offset + limit * 3 + 20, 1_000));
    const page = hits.slice(offset, offset + limit);
    const next = offset + limit < hits.length ? encodeCursor(offset + limit, binding) : null;
    return { hits: page, nextCursor: next };
  }

  let timer: NodeJS.Timeout | undefined;
  let working: Promise<unknown> = Promise.resolve();
  let lastPurge = 0;
  const workerIntervalMs = options.workerIntervalMs ?? 5_000;
  if (workerIntervalMs > 0) {
    timer = setInterval(() => {
      working = working.then(async () => {
        try {
          await jobs.resumePending();
          await syncPendingVectors();
          // Re-embedding after a change of model, a bounded share of each pass.
          for (let batch = 0; batch < 20; batch += 1) {
            if ((await embeddingModels.embedPending(embedder, 128)) === 0) break;
          }
          if (Date.now() - lastPurge > 10 * 60_000) {
            lastPurge = Date.now();
            const purged = await store.purgeExpiredOriginals();
            if (purged > 0) options.logger.info({ purged }, 'expired originals purged');
          }
        } catch (error) {
          options.logger.warn({ error }, 'library worker pass failed');
        }
      });
    }, workerIntervalMs);
    timer.unref();
  }

  return {
    async describe() {
      const [saved, pendingEmbeddings, pendingVectorSync] = await Promise.all([
        policy(),
        embeddingModels.pending(),
        vectorSync ? vectorSync.pending() : Promise.resolve(0),
      ]);
      return {
        vectorEngine: vectorIndex ? vectorIndex.engine : engine,
        pendingVectorSync,
        embedder: { id: embedder.id, model: embedder.model, dimensions: embedder.dimensions },
        pendingEmbeddings,
        originals: {
          encrypted: cipher !== undefined,
          kept: saved.retention.keepOriginals && cipher !== undefined,
        },
      };
    },

    async settings(principal) {
      requireAdministrator(principal);
      return settingsStore.get();
    },

    async updateSettings(patch, principal, { ifMatch, reindex }) {
      requireAdministrator(principal);
      if (vectorIndex && isEmbeddingChange(patch)) {
        throw LibraryRequestError.conflict(
          'reindex-not-supported',
          'This tenant’s vectors are in Milvus: changing its embedding model is not supported yet.',
        );
      }
      const updated = await settingsStore.update(patch, principalName(principal), {
        reindex,
        ...(ifMatch === undefined ? {} : { ifMatch }),
      });
      if (updated.embeddingChanged && !options.embedder) {
        const next = embeddingProviderFor(await settingsStore.embeddingSettings(), cipher);
        await embeddingModels.adopt(next);
        embedder = next;
        options.logger.info(
          { model: embeddingModelKey(next) },
          'embedding model changed: re-embedding',
        );
      }
      return { ...updated.settings, pendingEmbeddings: await embeddingModels.pending() };
    },

    embedPending: (limit = 128) => embeddingModels.embedPending(embedder, limit),

    async ingest(request, caller) {
      const { principal } = caller;
      const ownerId = access.ownerIdOf(principal);
      if (request.documentId === undefined) {
        try {
          access.require(principal, 'document.write', {
            id: 'new',
            classification: request.classification,
            ownerId,
          });
        } catch (error) {
          if (!(error instanceof DocumentAccessDeniedError)) throw error;
          throw LibraryRequestError.forbidden(
            `You may not add ${request.classification} documents to this library.`,
          );
        }
      } else {
        const existing = await documentOr404(request.documentId);
        accessProblem(access, principal, existing, 'document.write');
        // Reclassifying must be allowed for the new classification too.
        accessProblem(
          access,
          principal,
          { ...existing, classification: request.classification },
          'document.write',
        );
      }
      const outcome = await jobs.submit({
        request,
        provenance: { ingestedBy: principalName(principal), ownerId },
        idempotencyKey: caller.idempotencyKey,
        respondAsync: caller.respondAsync ?? false,
      });
      if (outcome.kind === 'done' && !outcome.result.unchanged) {
        await syncVectors(outcome.result.id);
      }
      return outcome;
    },

    async job(id, principal) {
      const job = await jobs.get(id);
      // Jobs are visible to whoever submitted them and to the tenant's administrators.
      if (!job) throw LibraryRequestError.notFound(`ingestion job ${id} does not exist`);
      if (job.createdBy !== principalName(principal)) {
        try {
          access.requireAdministrator(principal);
        } catch {
          throw LibraryRequestError.notFound(`ingestion job ${id} does not exist`);
        }
      }
      return job;
    },

    async getDocument(id, principal) {
      const document = await documentOr404(id);
      accessProblem(access, principal, document, 'document.read');
      return document;
    },

    async deleteDocument(id, principal) {
      const document = await documentOr404(id);
      accessProblem(access, principal, document, 'document.write');
      await store.deleteDocument(id, principalName(principal));
      await syncPendingVectors();
      options.logger.info({ documentId: id }, 'document deleted');
    },

    async deleteVersion(id, version, principal) {
      const document = await documentOr404(id);
      accessProblem(access, principal, document, 'document.write');
      if (!(await store.deleteVersion(id, version, principalName(principal)))) {
        throw LibraryRequestError.notFound(`document ${id} has no version ${version}`);
      }
      await syncPendingVectors();
      options.logger.info({ documentId: id, version }, 'document version deleted');
    },

    async original(id, version, principal) {
      const document = await documentOr404(id);
      accessProblem(access, principal, document, 'document.read');
      try {
        access.requireAdministrator(principal);
      } catch {
        throw LibraryRequestError.forbidden(
          'Originals hold the unredacted text: only the tenant’s administrators may read them.',
        );
      }
      const stored = await store.original(id, version);
      if (!stored) {
        throw LibraryRequestError.notFound(
          `no original of document ${id} version ${version} is kept`,
        );
      }
      if (!cipher) {
        throw new LibraryRequestError({
          type: 'data-keys-unavailable',
          title: 'Data keys unavailable',
          status: 503,
          detail: 'This host has no tenant data keys to decrypt originals with.',
        });
      }
      return {
        mediaType: stored.mediaType,
        content: cipher.decrypt(stored.ciphertext, originalAssociatedData(id)),
      };
    },

    search(params, principal) {
      const limitText = params.get('limit');
      const snapshot = params.get('snapshot');
      const cursor = params.get('cursor');
      const limit = limitText === null ? undefined : Number(limitText);
      return retrieve(
        {
          query: params.get('q') ?? '',
          filters: filtersOf(params),
          ...(limit === undefined ? {} : { limit }),
          ...(cursor === null ? {} : { cursor }),
          ...(snapshot === null ? {} : { snapshot }),
        },
        principal,
      );
    },

    retrieve,

    async answer(body, principal) {
      const fields = createFieldReader(body);
      const question = fields.string('question', { required: true, max: 1_000 });
      const limit = fields.integer('limit', { min: 1, max: 10 });
      const snapshot = fields.string('snapshot', { max: 100 });
      fields.done();
      if (!question) throw LibraryRequestError.invalid('question is required.');
      if (snapshot !== undefined) checkSnapshotName(snapshot);
      const hits = await rank(question, await scopeFor(principal, {}, snapshot), 20);
      // The passages are redacted stored text; the question is redacted as well before a
      // provider sees it.
      return answers.compose(redactText(question).text, hits.slice(0, 8), {
        sentences: limit ?? 3,
      });
    },

    async createSnapshot(body, principal) {
      const fields = createFieldReader(body);
      const name = fields.string('name', { required: true, max: 100 });
      const description = fields.string('description', { max: 2_000, min: 0 });
      fields.done();
      if (!name) throw LibraryRequestError.invalid('name is required.');
      checkSnapshotName(name);
      requireAdministrator(principal);
      try {
        return await snapshots.create({
          name,
          description: description ?? '',
          createdBy: principalName(principal),
        });
      } catch (error) {
        if (!(error instanceof SnapshotExistsError)) throw error;
        throw LibraryRequestError.conflict('snapshot-exists', error.message);
      }
    },

    async listSnapshots(principal) {
      requireSearcher(principal);
      return snapshots.list();
    },

    async getSnapshot(name, principal) {
      requireSearcher(principal);
      const snapshot = await snapshots.get(name);
      if (!snapshot) throw LibraryRequestError.notFound(`snapshot ${name} does not exist`);
      return { ...snapshot, members: await snapshots.members(name) };
    },

    async deleteSnapshot(name, principal) {
      requireAdministrator(principal);
      if (!(await snapshots.delete(name))) {
        throw LibraryRequestError.notFound(`snapshot ${name} does not exist`);
      }
    },

    async rollback(name, principal) {
      requireAdministrator(principal);
      const rolledBack = await snapshots.rollback(name, principalName(principal));
      if (!rolledBack) throw LibraryRequestError.notFound(`snapshot ${name} does not exist`);
      await syncPendingVectors();
      options.logger.info(
        { snapshot: name, changed: rolledBack.changed },
        'knowledge base rolled back',
      );
      return { snapshot: name, changed: rolledBack.changed };
    },

    requireEventReader(principal) {
      if (
        principal.type === 'api-key' &&
        (principal.scopes.includes('events:read') || principal.scopes.includes('*'))
      ) {
        return;
      }
      try {
        access.requireAdministrator(principal);
      } catch {
        throw LibraryRequestError.forbidden(
          'The library’s events are for administrators and API keys with scope events:read.',
        );
      }
    },

    async resumePendingJobs() {
      const ran = await jobs.resumePending();
      await syncPendingVectors();
      return ran;
    },

    async close() {
      if (timer) clearInterval(timer);
      await working;
    },
  };

  function requireAdministrator(principal: RequestPrincipal): void {
    try {
      access.requireAdministrator(principal);
    } catch (error) {
      if (!(error instanceof DocumentAccessDeniedError)) throw error;
      throw LibraryRequestError.forbidden(
        'Managing the knowledge base (snapshots, settings) takes the tenant’s administrator role.',
      );
    }
  }

  function requireSearcher(principal: RequestPrincipal): void {
    const readable = access.readable(principal);
    if (readable.classifications.length === 0 && readable.ownClassifications.length === 0) {
      throw LibraryRequestError.forbidden('You may not search this library.');
    }
  }
}

export { readIngestRequest };
