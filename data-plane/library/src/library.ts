import type { Pool } from 'pg';
import type { HostLogger } from '@citadel/data-plane-runtime';
import { chunkDocument } from './chunking/index.ts';
import { contentDigest, estimateJaccard, minhashSignature } from './dedupe/index.ts';
import { createLexicalHashEmbedder, type EmbeddingProvider } from './embeddings/index.ts';
import { createFieldReader, LibraryRequestError } from './http/library-requests.ts';
import { composeExtractiveAnswer, type AnswerCitation } from './answers/extractive-answer.ts';
import { redactParsedDocument } from './ingestion/redact-parsed-document.ts';
import {
  DEFAULT_LICENSE_POLICY,
  evaluateLicensePolicy,
  LicenseError,
  parseLicense,
  type LicensePolicy,
} from './licensing/index.ts';
import { parseDocument } from './parsing/index.ts';
import { reciprocalRankFusion } from './retrieval/index.ts';
import { ensureLibrarySchema, type VectorEngine } from './store/library-schema.ts';
import {
  createLibraryStore,
  DocumentNotFoundError,
  type LibraryStore,
  type SearchFilters,
} from './store/library-store.ts';
import { decodeCursor, encodeCursor } from './http/search-cursor.ts';

export interface LibraryOptions {
  pool: Pool;
  logger: HostLogger;
  /** Default: the offline lexical-hash embedder, 384 dimensions. */
  embedder?: EmbeddingProvider;
  /** Which licences may be ingested and used for training (the tenant's policy). */
  licensePolicy?: LicensePolicy;
  /** Near-duplicates are reported above this estimated Jaccard similarity (default 0.85). */
  nearDuplicateThreshold?: number;
  /** Chunk size and overlap in tokens (defaults 400 and 50). */
  chunking?: { maxTokens?: number; overlapTokens?: number };
}

export interface IngestResult {
  id: string;
  version: number;
  status: 'indexed';
  /** The document's latest version already had this content: nothing was written or embedded. */
  unchanged: boolean;
  chunks: number;
  license: { expression: string; trainingAllowed: boolean };
  redactions: { total: number; countsByType: Partial<Record<string, number>> };
  duplicates: { exact: string[]; near: Array<{ documentId: string; similarity: number }> };
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

export interface Library {
  describe(): {
    vectorEngine: VectorEngine;
    embedder: { id: string; model: string; dimensions: number };
  };
  ingest(body: unknown, provenance: { ingestedBy: string }): Promise<IngestResult>;
  getDocument(id: string): ReturnType<LibraryStore['getDocument']>;
  search(params: URLSearchParams): Promise<{ hits: SearchHit[]; nextCursor: string | null }>;
  answer(body: unknown): Promise<{ answer: string | null; citations: AnswerCitation[] }>;
}

const MAX_CONTENT_CHARACTERS = 20 * 1024 * 1024;

const toBuffer = (signature: Uint32Array) =>
  Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
const fromBuffer = (buffer: Buffer) =>
  new Uint32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));

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

/** The search parameters every search and answer reads: the query's filters. */
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

/**
 * The library of one tenant: ingestion (parse → redact → licence → dedupe → chunk → embed →
 * one transaction), hybrid search (full-text and vector rankings fused by reciprocal rank) and
 * extractive answers whose every sentence cites a stored span.
 */
export async function createLibrary(options: LibraryOptions): Promise<Library> {
  const embedder = options.embedder ?? createLexicalHashEmbedder({ dimensions: 384 });
  const policy = options.licensePolicy ?? DEFAULT_LICENSE_POLICY;
  const threshold = options.nearDuplicateThreshold ?? 0.85;
  const engine = await ensureLibrarySchema(options.pool, { dimensions: embedder.dimensions });
  const store = createLibraryStore(options.pool, engine);
  if (engine === 'exact') {
    options.logger.warn(
      {},
      'pgvector is not installed in this database: the library searches vectors exactly, in the service',
    );
  }

  async function rank(query: string, filters: SearchFilters, depth: number) {
    const [queryVector] = await embedder.embed([query]);
    const [lexical, semantic] = await Promise.all([
      store.fullTextRanking(query, filters, depth),
      queryVector ? store.vectorRanking(queryVector, filters, depth) : Promise.resolve([]),
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

  return {
    describe: () => ({
      vectorEngine: engine,
      embedder: { id: embedder.id, model: embedder.model, dimensions: embedder.dimensions },
    }),

    async ingest(body, provenance) {
      const fields = createFieldReader(body);
      const title = fields.string('title', { required: true, max: 500 });
      const content = fields.string('content', { required: true, max: MAX_CONTENT_CHARACTERS });
      const mediaType = fields.string('mediaType', { required: true, max: 200 });
      const licenseExpression = fields.string('license', { required: true, max: 500 });
      const source = fields.string('source', { required: true, max: 2_000 });
      const author = fields.string('author', { max: 500 });
      const tags = fields.strings('tags');
      const documentId = fields.uuid('documentId');
      fields.done();
      if (!title || !content || !mediaType || !licenseExpression || !source) {
        throw LibraryRequestError.invalid('The request has invalid fields.');
      }

      let license;
      try {
        license = parseLicense(licenseExpression);
      } catch (error) {
        if (!(error instanceof LicenseError)) throw error;
        throw LibraryRequestError.invalid(error.message, [
          { path: 'license', message: error.message },
        ]);
      }
      const decision = evaluateLicensePolicy(license, policy);
      if (!decision.ingestAllowed) {
        throw new LibraryRequestError({
          type: 'license-not-allowed',
          title: 'Licence not allowed',
          status: 422,
          detail: `This tenant's policy does not allow ingesting ${licenseExpression}: ${decision.reasons.join('; ')}`,
        });
      }

      const parsed = await parseDocument({ text: content, mediaType });
      // Nothing below sees the original text: only the redacted one is chunked, embedded,
      // stored and cited.
      const redacted = redactParsedDocument(parsed);
      const text = redacted.parsed.text;
      const digest = contentDigest(text);
      const signature = minhashSignature(text);

      const [exact, signatures] = await Promise.all([
        store.findByDigest(digest),
        store.latestSignatures(),
      ]);
      const near = signatures
        .filter((stored) => stored.documentId !== documentId)
        .map((stored) => ({
          documentId: stored.documentId,
          similarity: estimateJaccard(signature, fromBuffer(stored.minhash)),
        }))
        .filter((candidate) => candidate.similarity >= threshold)
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, 10);
      const duplicates = {
        exact: exact.map((found) => found.documentId).filter((id) => id !== documentId),
        near: near.map((found) => ({
          ...found,
          similarity: Math.round(found.similarity * 1000) / 1000,
        })),
      };
      const response = (
        id: string,
        version: number,
        unchanged: boolean,
        chunks: number,
      ): IngestResult => ({
        id,
        version,
        status: 'indexed',
        unchanged,
        chunks,
        license: { expression: licenseExpression, trainingAllowed: decision.trainingAllowed },
        redactions: {
          total: redacted.report.total,
          countsByType: redacted.report.countsByType,
        },
        duplicates,
      });

      // Unchanged content of an existing document: nothing is chunked or embedded again.
      if (documentId !== undefined) {
        const latest = await store.latestVersion(documentId);
        if (!latest) throw new DocumentNotFoundError(documentId);
        const unchanged = latest.contentDigest === digest ? latest : undefined;
        if (unchanged) return response(documentId, unchanged.version, true, unchanged.chunks);
      }

      const chunks = chunkDocument(redacted.parsed, options.chunking ?? {});
      const vectors = await embedder.embed(chunks.map((chunk) => chunk.text));
      const stored = await store.storeVersion({
        ...(documentId === undefined ? {} : { documentId }),
        title: redacted.parsed.title && title === parsed.title ? redacted.parsed.title : title,
        source,
        author,
        license: licenseExpression,
        mediaType,
        tags: tags ?? [],
        text,
        contentDigest: digest,
        minhash: toBuffer(signature),
        redactionReport: redacted.report,
        trainingAllowed: decision.trainingAllowed,
        ingestedBy: provenance.ingestedBy,
        chunks: chunks.map((chunk, index) => ({
          ordinal: chunk.index,
          text: chunk.text,
          start: chunk.start,
          end: chunk.end,
          headingPath: chunk.headingPath,
          embedding: vectors[index] ?? new Float32Array(embedder.dimensions),
        })),
      });
      options.logger.info(
        {
          documentId: stored.documentId,
          version: stored.version,
          chunks: chunks.length,
          redactions: redacted.report.total,
          unchanged: stored.unchanged,
        },
        'document ingested',
      );
      return response(stored.documentId, stored.version, stored.unchanged, chunks.length);
    },

    getDocument: (id) => store.getDocument(id),

    async search(params) {
      const query = params.get('q')?.trim() ?? '';
      if (query === '' || query.length > 1_000) {
        throw LibraryRequestError.invalid('q must be 1 to 1000 characters.', [
          { path: 'q', message: 'must be 1 to 1000 characters' },
        ]);
      }
      const limit = Number(params.get('limit') ?? 10);
      if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
        throw LibraryRequestError.invalid('limit must be an integer from 1 to 50.', [
          { path: 'limit', message: 'must be an integer from 1 to 50' },
        ]);
      }
      const filters = filtersOf(params);
      const offset = decodeCursor(params.get('cursor'), { query, filters });
      const hits = await rank(query, filters, Math.min(offset + limit * 3 + 20, 1_000));
      const page = hits.slice(offset, offset + limit);
      const next =
        offset + limit < hits.length ? encodeCursor(offset + limit, { query, filters }) : null;
      return { hits: page, nextCursor: next };
    },

    async answer(body) {
      const fields = createFieldReader(body);
      const question = fields.string('question', { required: true, max: 1_000 });
      const limit = fields.integer('limit', { min: 1, max: 10 });
      fields.done();
      if (!question) throw LibraryRequestError.invalid('question is required.');
      const hits = await rank(question, {}, 20);
      return composeExtractiveAnswer(question, hits.slice(0, 8), { sentences: limit ?? 3 });
    },
  };
}
