import type { HostLogger, TenantDataCipher } from '@citadel/data-plane-runtime';
import { chunkDocument } from '../chunking/index.ts';
import { contentDigest, estimateJaccard, minhashBands, minhashSignature } from '../dedupe/index.ts';
import type { EmbeddingProvider } from '../embeddings/index.ts';
import { LibraryRequestError } from '../http/library-requests.ts';
import {
  evaluateLicensePolicy,
  LicenseError,
  parseLicense,
  type LicensePolicy,
} from '../licensing/index.ts';
import { parseDocument } from '../parsing/index.ts';
import type { LibraryStore, StoredVersion } from '../store/library-store.ts';
import { embeddingModelKey } from '../store/embedding-model.ts';
import { redactParsedDocument } from './redact-parsed-document.ts';
import { documentInputOf, originalBytesOf, type IngestRequest } from './ingest-request.ts';

/** What the tenant's policy decides about an ingestion (its library settings). */
export interface IngestionPolicy {
  licensePolicy: LicensePolicy;
  /** Near-duplicates are reported above this estimated Jaccard similarity. */
  nearDuplicateThreshold: number;
  /** Keep the original upload, encrypted, for this long (days; null: until deleted). */
  retention: { keepOriginals: boolean; originalsRetentionDays: number | null };
  embedder: EmbeddingProvider;
  chunking: { maxTokens?: number; overlapTokens?: number };
}

export interface IngestResult {
  id: string;
  version: number;
  status: 'indexed';
  /** The document's current version already had this content: nothing was written or embedded. */
  unchanged: boolean;
  chunks: number;
  license: { expression: string; trainingAllowed: boolean };
  redactions: { total: number; countsByType: Partial<Record<string, number>> };
  duplicates: { exact: string[]; near: Array<{ documentId: string; similarity: number }> };
  originalKept: boolean;
}

/** Who asked, as provenance: `user:<id>`, `api-key:<id>`, `operator`. */
export interface IngestProvenance {
  ingestedBy: string;
  /** The owning user of a new document (the Cedar `Document.owner`). */
  ownerId: string | undefined;
}

const toBuffer = (signature: Uint32Array) =>
  Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
const fromBuffer = (buffer: Buffer) =>
  new Uint32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));

/** The licence of a request, checked against the tenant's policy; 400/422 problems otherwise. */
export function checkLicense(expression: string, policy: LicensePolicy) {
  let license;
  try {
    license = parseLicense(expression);
  } catch (error) {
    if (!(error instanceof LicenseError)) throw error;
    throw LibraryRequestError.invalid(error.message, [{ path: 'license', message: error.message }]);
  }
  const decision = evaluateLicensePolicy(license, policy);
  if (!decision.ingestAllowed) {
    throw new LibraryRequestError({
      type: 'license-not-allowed',
      title: 'Licence not allowed',
      status: 422,
      detail: `This tenant's policy does not allow ingesting ${expression}: ${decision.reasons.join('; ')}`,
    });
  }
  return decision;
}

/**
 * One ingestion: parse → DLP redaction → licence → exact and near-duplicate report → chunk →
 * embed → one transaction (version, chunks, encrypted original, outbox events and the job's
 * completion). Nothing below the redaction sees the original text but the encrypted copy.
 */
export async function ingestDocument(input: {
  request: IngestRequest;
  documentId: string;
  create: boolean;
  provenance: IngestProvenance;
  policy: IngestionPolicy;
  store: LibraryStore;
  cipher: TenantDataCipher | undefined;
  logger: HostLogger;
  job?: { id: string };
}): Promise<IngestResult> {
  const { request, policy, store, documentId } = input;
  const decision = checkLicense(request.license, policy.licensePolicy);
  const parsed = await parseDocument(documentInputOf(request));
  const redacted = redactParsedDocument(parsed);
  const text = redacted.parsed.text;
  const digest = contentDigest(text);
  const signature = minhashSignature(text);
  const bands = minhashBands(signature);

  const [exact, signatures] = await Promise.all([
    store.findByDigest(digest),
    store.nearDuplicateCandidates(bands),
  ]);
  const near = signatures
    .filter((stored) => stored.documentId !== documentId)
    .map((stored) => ({
      documentId: stored.documentId,
      similarity: estimateJaccard(signature, fromBuffer(stored.minhash)),
    }))
    .filter((candidate) => candidate.similarity >= policy.nearDuplicateThreshold)
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, 10);
  const duplicates = {
    exact: exact.map((found) => found.documentId).filter((id) => id !== documentId),
    near: near.map((found) => ({
      ...found,
      similarity: Math.round(found.similarity * 1000) / 1000,
    })),
  };
  const keepOriginal = policy.retention.keepOriginals && input.cipher !== undefined;
  const response = (stored: StoredVersion, chunks: number): IngestResult => ({
    id: stored.documentId,
    version: stored.version,
    status: 'indexed',
    unchanged: stored.unchanged,
    chunks,
    license: { expression: request.license, trainingAllowed: decision.trainingAllowed },
    redactions: { total: redacted.report.total, countsByType: redacted.report.countsByType },
    duplicates,
    originalKept: keepOriginal && !stored.unchanged,
  });

  // Unchanged content of an existing document: nothing is chunked or embedded again.
  if (!input.create) {
    const current = await store.currentVersion(documentId);
    if (current?.contentDigest === digest) {
      return response({ documentId, version: current.version, unchanged: true }, current.chunks);
    }
  }

  const chunks = chunkDocument(redacted.parsed, policy.chunking);
  const vectors = await policy.embedder.embed(chunks.map((chunk) => chunk.text));
  let original;
  if (keepOriginal && input.cipher) {
    const bytes = originalBytesOf(request);
    const days = policy.retention.originalsRetentionDays;
    original = {
      mediaType: request.mediaType,
      sizeBytes: bytes.length,
      keyVersion: input.cipher.activeKeyVersion,
      // Bound to the document (not the version: it is not known until the write).
      ciphertext: input.cipher.encrypt(bytes, originalAssociatedData(documentId)),
      expiresAt: days === null ? undefined : new Date(Date.now() + days * 86_400_000),
    };
  }
  const stored = await store.storeVersion({
    documentId,
    create: input.create,
    title:
      redacted.parsed.title && request.title === parsed.title
        ? redacted.parsed.title
        : request.title,
    source: request.source,
    author: request.author,
    license: request.license,
    mediaType: request.mediaType,
    tags: request.tags,
    classification: request.classification,
    ownerId: input.provenance.ownerId,
    text,
    contentDigest: digest,
    minhash: toBuffer(signature),
    minhashBands: bands,
    embeddingModel: embeddingModelKey(policy.embedder),
    redactionReport: redacted.report,
    trainingAllowed: decision.trainingAllowed,
    ingestedBy: input.provenance.ingestedBy,
    chunks: chunks.map((chunk, index) => ({
      ordinal: chunk.index,
      text: chunk.text,
      start: chunk.start,
      end: chunk.end,
      headingPath: chunk.headingPath,
      embedding: vectors[index] ?? new Float32Array(policy.embedder.dimensions),
    })),
    ...(original ? { original } : {}),
    ...(input.job
      ? {
          job: {
            id: input.job.id,
            result: (written: StoredVersion) =>
              response(written, written.unchanged ? 0 : chunks.length),
          },
        }
      : {}),
  });
  input.logger.info(
    {
      documentId: stored.documentId,
      version: stored.version,
      chunks: chunks.length,
      redactions: redacted.report.total,
      unchanged: stored.unchanged,
    },
    'document ingested',
  );
  return response(stored, stored.unchanged ? 0 : chunks.length);
}

/** The associated data an original is encrypted with: it decrypts only as that document's. */
export function originalAssociatedData(documentId: string): string {
  return `citadel-library-original:${documentId}`;
}
