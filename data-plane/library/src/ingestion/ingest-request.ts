import { createHash } from 'node:crypto';
import {
  DOCUMENT_CLASSIFICATIONS,
  type DocumentClassification,
} from '../access/document-access.ts';
import { createFieldReader, LibraryRequestError } from '../http/library-requests.ts';
import { DEFAULT_MAX_DOCUMENT_BYTES } from '../parsing/index.ts';

/**
 * The largest `content` a request may carry (characters): the parser's byte limit, as
 * base64 (4 characters per 3 bytes) when the content is bytes.
 */
const MAX_CONTENT_CHARACTERS = 4 * Math.ceil(DEFAULT_MAX_DOCUMENT_BYTES / 3);

/**
 * One ingestion, validated: what a job stores (encrypted) and what a worker resumes from.
 * `content` is the upload as given — text, or base64 bytes (PDF, or any upload sent as
 * bytes) — and is the only place the unredacted text exists.
 */
export interface IngestRequest {
  title: string;
  content: { text: string } | { base64: string };
  mediaType: string;
  license: string;
  source: string;
  author: string | undefined;
  tags: string[];
  classification: DocumentClassification;
  /** A new version of this document; absent: a new document. */
  documentId: string | undefined;
}

/**
 * Reads `POST /v1/documents`' JSON body: `{title, content, mediaType, license, source,
 * author?, tags?, classification?, documentId?, contentEncoding?}` where `contentEncoding`
 * is `utf-8` (default) or `base64` (bytes, e.g. a PDF). Every problem is reported at once.
 */
export function readIngestRequest(body: unknown): IngestRequest {
  const fields = createFieldReader(body);
  const title = fields.string('title', { required: true, max: 500 });
  const content = fields.string('content', { required: true, max: MAX_CONTENT_CHARACTERS });
  const mediaType = fields.string('mediaType', { required: true, max: 200 });
  const license = fields.string('license', { required: true, max: 500 });
  const source = fields.string('source', { required: true, max: 2_000 });
  const author = fields.string('author', { max: 500 });
  const tags = fields.strings('tags');
  const documentId = fields.uuid('documentId');
  const classification = fields.oneOf('classification', DOCUMENT_CLASSIFICATIONS);
  const encoding = fields.oneOf('contentEncoding', ['utf-8', 'base64'] as const);
  if (encoding === 'base64' && content !== undefined && !isBase64(content)) {
    fields.fail('content', 'must be base64 when contentEncoding is base64');
  }
  fields.done();
  if (!title || !content || !mediaType || !license || !source) {
    throw LibraryRequestError.invalid('The request has invalid fields.');
  }
  return {
    title,
    content: encoding === 'base64' ? { base64: content } : { text: content },
    mediaType,
    license,
    source,
    author,
    tags: tags ?? [],
    classification: classification ?? 'internal',
    documentId,
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isBase64(value: string): boolean {
  return value.length % 4 === 0 && BASE64.test(value);
}

/** SHA-256 of the request as validated: the same request always digests the same. */
export function digestIngestRequest(request: IngestRequest): string {
  const canonical = JSON.stringify([
    request.title,
    request.content,
    request.mediaType,
    request.license,
    request.source,
    request.author ?? null,
    request.tags,
    request.classification,
    request.documentId ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** The upload's bytes or text, as the parser takes it. */
export function documentInputOf(request: IngestRequest) {
  return 'text' in request.content
    ? { text: request.content.text, mediaType: request.mediaType }
    : { bytes: Buffer.from(request.content.base64, 'base64'), mediaType: request.mediaType };
}

/** The upload's bytes (UTF-8 for text): what the retention policy may keep, encrypted. */
export function originalBytesOf(request: IngestRequest): Buffer {
  return 'text' in request.content
    ? Buffer.from(request.content.text, 'utf8')
    : Buffer.from(request.content.base64, 'base64');
}
