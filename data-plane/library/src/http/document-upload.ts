import type { IncomingMessage } from 'node:http';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import busboy, { type Busboy, type FileInfo } from 'busboy';
import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  DocumentParseError,
  isSupportedMediaType,
  SUPPORTED_MEDIA_TYPES,
} from '../parsing/index.ts';
import { LibraryRequestError } from './library-requests.ts';

/** The text fields an upload may carry, as form fields or inside a `metadata` JSON part. */
export const DOCUMENT_UPLOAD_FIELDS = [
  'title',
  'license',
  'source',
  'author',
  'mediaType',
  'documentId',
  'classification',
  'tags',
] as const;

export type DocumentUploadField = (typeof DOCUMENT_UPLOAD_FIELDS)[number];

/** Bounds on a multipart upload; every one is enforced while the body streams in. */
export interface DocumentUploadLimits {
  /** The document's largest size; default {@link DEFAULT_MAX_DOCUMENT_BYTES} (20 MiB), the parser's own limit. */
  maxFileBytes?: number;
  /** The largest text field, the `metadata` JSON part included; default 64 KiB. */
  maxFieldBytes?: number;
  /** The most parts (file and fields together); default 100. */
  maxParts?: number;
  /** The whole body's largest size; default `maxFileBytes` + 1 MiB for the fields and part headers. */
  maxBodyBytes?: number;
}

/** The default of {@link DocumentUploadLimits.maxFieldBytes}. */
export const DEFAULT_MAX_UPLOAD_FIELD_BYTES = 64 * 1024;
/** The default of {@link DocumentUploadLimits.maxParts}. */
export const DEFAULT_MAX_UPLOAD_PARTS = 100;

/** The uploaded document. */
export interface UploadedDocumentFile {
  /** As the client named it (no directories); empty when it sent none. */
  filename: string;
  /** The media type the document is parsed as: always one `parseDocument` supports. */
  mediaType: string;
  /** The part's own `Content-Type` (`text/plain` when it sent none, per RFC 7578). */
  declaredMediaType: string;
  content: Buffer;
}

/** A multipart upload read in full and checked: what {@link uploadToIngestBody} turns into an ingest body. */
export interface DocumentUpload {
  /** Every text field given, `tags` always as an array; `mediaType` is the client's override, if any. */
  fields: Partial<Record<DocumentUploadField, string | string[]>>;
  file: UploadedDocumentFile;
}

/** The JSON body `Library.ingest` reads, made from an upload. */
export interface UploadIngestBody {
  title: string;
  /** The text of a text document; the base64 of a PDF's bytes (see {@link UploadIngestBody.contentEncoding}). */
  content: string;
  /** `base64` when `content` holds binary bytes (PDF); absent for text. */
  contentEncoding?: 'base64';
  mediaType: string;
  license?: string;
  source?: string;
  author?: string;
  documentId?: string;
  classification?: string;
  tags?: string[];
}

/** Extensions that name a supported media type when the part's own type says nothing. */
const EXTENSION_MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.pdf': 'application/pdf',
};

/** Part types that say nothing of the content: `text/plain` is also what a part without a type reads as. */
const GENERIC_PART_TYPES = new Set(['application/octet-stream', 'text/plain']);

interface ResolvedLimits {
  maxFileBytes: number;
  maxFieldBytes: number;
  maxParts: number;
  maxBodyBytes: number;
}

interface FieldPart {
  name: string;
  value: string;
  truncated: boolean;
}

interface FilePart {
  name: string;
  /** `undefined` when the part had no filename (a part typed application/octet-stream). */
  filename: string | undefined;
  mediaType: string;
  content: Buffer;
  /** Too long for a text part (a `metadata` part sent as a file). */
  truncated: boolean;
}

interface UploadParts {
  fields: FieldPart[];
  files: FilePart[];
}

type FieldErrors = Array<{ path: string; message: string }>;

/**
 * Reads a `multipart/form-data` document upload: exactly one file part named `file`, and text
 * fields `title`, `license`, `source`, `author`, `mediaType` (overrides the detected type),
 * `documentId`, `classification` and repeated `tags` — or the same as one `metadata` part
 * holding a JSON object.
 * The document's media type is the `mediaType` field if given, else the part's own type if it
 * is specific, else the filename's extension (`.txt`, `.md`, `.html`, `.pdf`).
 *
 * The body is streamed: nothing beyond the limits is buffered. On a refusal the request is
 * unhooked from the parser and left to drain (its bytes are discarded); send the problem with
 * `Connection: close` so an oversized upload stops at once instead of being read to its end.
 *
 * @throws {LibraryRequestError} 415 `unsupported-media-type` (not multipart/form-data, or a
 *   document type the library does not parse); 413 `payload-too-large` (the file or the body
 *   over its limit); 400 `validation-error` (no boundary, a malformed or truncated body, no
 *   file, two files, an unknown or repeated field, a field too long, metadata that is not a
 *   JSON object of strings, too many parts), with `errors[].path` naming the field at fault.
 */
export async function readDocumentUpload(
  request: IncomingMessage,
  limits: DocumentUploadLimits = {},
): Promise<DocumentUpload> {
  const resolved = resolveLimits(limits);
  assertMultipart(request.headers['content-type']);
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > resolved.maxBodyBytes) throw tooLarge('The upload', resolved.maxBodyBytes);
  const parts = await readParts(request, resolved);
  return assembleUpload(parts, resolved);
}

function resolveLimits(limits: DocumentUploadLimits): ResolvedLimits {
  const maxFileBytes = limits.maxFileBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  return {
    maxFileBytes,
    maxFieldBytes: limits.maxFieldBytes ?? DEFAULT_MAX_UPLOAD_FIELD_BYTES,
    maxParts: limits.maxParts ?? DEFAULT_MAX_UPLOAD_PARTS,
    maxBodyBytes: limits.maxBodyBytes ?? maxFileBytes + 1024 * 1024,
  };
}

function assertMultipart(contentType: string | undefined): void {
  const essence = contentType?.split(';')[0]?.trim().toLowerCase();
  if (essence !== 'multipart/form-data') {
    throw unsupportedMediaType('Send multipart/form-data (or application/json).');
  }
}

/**
 * Streams the body through busboy. Settles exactly once: on the parser's end, or on the first
 * refusal, after which the request is unpiped and its remaining bytes discarded.
 */
function readParts(request: IncomingMessage, limits: ResolvedLimits): Promise<UploadParts> {
  return new Promise((resolve, reject) => {
    let parser: Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        defParamCharset: 'utf8',
        limits: {
          // busboy signals `limit` on reaching fileSize: one byte more tells "over" from "exactly".
          fileSize: limits.maxFileBytes + 1,
          fieldSize: limits.maxFieldBytes,
          fieldNameSize: 200,
          parts: limits.maxParts,
        },
      });
    } catch (error) {
      reject(malformed(error));
      return;
    }
    const parts: UploadParts = { fields: [], files: [] };
    let settled = false;
    const settle = (error?: LibraryRequestError): void => {
      if (settled) return;
      settled = true;
      if (!error) {
        resolve(parts);
        return;
      }
      request.unpipe(parser);
      parser.destroy();
      request.resume();
      reject(error);
    };
    watchRequest(request, limits, settle);
    watchParser(parser, limits, parts, settle);
    request.pipe(parser);
  });
}

type Settle = (error?: LibraryRequestError) => void;

/** The body's size, and a connection that ends before the body does (never a hang). */
function watchRequest(request: IncomingMessage, limits: ResolvedLimits, settle: Settle): void {
  let received = 0;
  request.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limits.maxBodyBytes) settle(tooLarge('The upload', limits.maxBodyBytes));
  });
  request.on('error', () => settle(truncated()));
  request.on('close', () => {
    if (!request.complete) settle(truncated());
  });
}

function watchParser(
  parser: Busboy,
  limits: ResolvedLimits,
  parts: UploadParts,
  settle: Settle,
): void {
  parser.on('field', (name, value, info) => {
    parts.fields.push({ name, value, truncated: info.nameTruncated || info.valueTruncated });
  });
  parser.on('file', (name, stream, info) => {
    readFilePart({ name, stream, info, limits }, settle, (part) => parts.files.push(part));
  });
  parser.on('partsLimit', () => {
    settle(
      LibraryRequestError.invalid(`An upload has at most ${limits.maxParts} parts.`, [
        { path: '', message: `must have at most ${limits.maxParts} parts` },
      ]),
    );
  });
  parser.on('error', (error) => settle(malformed(error)));
  parser.on('close', () => settle());
}

interface FilePartSource {
  name: string;
  stream: Readable;
  info: FileInfo;
  limits: ResolvedLimits;
}

/**
 * Buffers the `file` part up to its limit (413 beyond) and a `metadata` part sent as a file
 * up to the field limit; any other file part is read and discarded (its name is refused later).
 */
function readFilePart(source: FilePartSource, settle: Settle, add: (part: FilePart) => void): void {
  const { name, stream, info, limits } = source;
  const keep = name === 'file' || name === 'metadata';
  const maxBytes = name === 'metadata' ? limits.maxFieldBytes : Number.POSITIVE_INFINITY;
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (keep && size <= maxBytes) chunks.push(chunk);
  });
  stream.on('limit', () => {
    // busboy stops every file part at `fileSize`, whatever its name.
    const what = name === 'file' ? 'The document' : `The part ${JSON.stringify(name)}`;
    settle(tooLarge(what, limits.maxFileBytes));
  });
  stream.on('error', (error) => settle(malformed(error)));
  stream.on('end', () => {
    add({
      name,
      // busboy's types say string; a part typed application/octet-stream may have none.
      filename: info.filename,
      mediaType: info.mimeType.toLowerCase(),
      content: Buffer.concat(chunks),
      truncated: size > maxBytes,
    });
  });
}

/** Checks the parts read, collecting every problem before refusing them. */
function assembleUpload(parts: UploadParts, limits: ResolvedLimits): DocumentUpload {
  const errors: FieldErrors = [];
  const fields: DocumentUpload['fields'] = {};
  for (const part of parts.fields) addFieldPart(fields, part, limits, errors);
  for (const part of parts.files.filter((file) => file.name === 'metadata')) {
    addMetadata(fields, { ...part, value: part.content.toString('utf8') }, limits, errors);
  }
  const document = documentPartOf(parts, errors);
  if (errors.length > 0 || !document) {
    throw LibraryRequestError.invalid('The upload has invalid fields.', errors);
  }
  const filename = document.filename ?? '';
  const override = typeof fields.mediaType === 'string' ? fields.mediaType : undefined;
  return {
    fields,
    file: {
      filename,
      mediaType: resolveUploadMediaType(override, document.mediaType, filename),
      declaredMediaType: document.mediaType,
      content: document.content,
    },
  };
}

/** The one non-empty `file` part; any other file part is an unknown field. */
function documentPartOf(parts: UploadParts, errors: FieldErrors): FilePart | undefined {
  const documents = parts.files.filter((file) => file.name === 'file');
  const others = parts.files.filter((file) => file.name !== 'file' && file.name !== 'metadata');
  for (const other of others) errors.push(unknownField(other.name));
  if (documents.length === 0 && !parts.fields.some((field) => field.name === 'file')) {
    errors.push({ path: 'file', message: 'is required: upload the document as a part named file' });
  }
  if (documents.length > 1) {
    errors.push({ path: 'file', message: 'must be given once: upload one document at a time' });
  }
  const document = documents[0];
  if (document?.content.length === 0) errors.push({ path: 'file', message: 'is empty' });
  return document;
}

function addFieldPart(
  fields: DocumentUpload['fields'],
  part: FieldPart,
  limits: ResolvedLimits,
  errors: FieldErrors,
): void {
  if (part.name === 'metadata') {
    addMetadata(fields, part, limits, errors);
    return;
  }
  if (part.name === 'file') {
    errors.push({
      path: 'file',
      message: 'must be a file part (with a filename), not a text field',
    });
    return;
  }
  if (!isUploadField(part.name)) {
    errors.push(unknownField(part.name));
    return;
  }
  if (part.truncated) {
    errors.push({ path: part.name, message: `must have at most ${limits.maxFieldBytes} bytes` });
    return;
  }
  setField(fields, part.name, part.value, errors);
}

/** A `metadata` part: a JSON object of the same fields, strings (and `tags` an array of them). */
function addMetadata(
  fields: DocumentUpload['fields'],
  part: { value: string; truncated: boolean },
  limits: ResolvedLimits,
  errors: FieldErrors,
): void {
  if (part.truncated) {
    errors.push({ path: 'metadata', message: `must have at most ${limits.maxFieldBytes} bytes` });
    return;
  }
  const metadata = parseJsonObject(part.value);
  if (!metadata) {
    errors.push({ path: 'metadata', message: 'must be a JSON object' });
    return;
  }
  for (const [name, value] of Object.entries(metadata)) {
    addMetadataEntry(fields, { name, value }, errors);
  }
}

function addMetadataEntry(
  fields: DocumentUpload['fields'],
  entry: { name: string; value: unknown },
  errors: FieldErrors,
): void {
  const { name, value } = entry;
  const path = `metadata.${name}`;
  if (!isUploadField(name)) {
    errors.push({ path, message: 'is not a known field' });
  } else if (typeof value === 'string') {
    setField(fields, name, value, errors);
  } else if (name === 'tags' && isStringArray(value)) {
    for (const tag of value) setField(fields, name, tag, errors);
  } else if (value !== null) {
    errors.push({
      path,
      message: name === 'tags' ? 'must be an array of strings' : 'must be a string',
    });
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Sets a field once (`tags` collects every value); a second value of another field is refused. */
function setField(
  fields: DocumentUpload['fields'],
  name: DocumentUploadField,
  value: string,
  errors: FieldErrors,
): void {
  if (name === 'tags') {
    const tags = fields.tags;
    fields.tags = Array.isArray(tags) ? [...tags, value] : [value];
    return;
  }
  if (fields[name] !== undefined) {
    errors.push({ path: name, message: 'must be given once' });
    return;
  }
  fields[name] = value;
}

function isUploadField(name: string): name is DocumentUploadField {
  return (DOCUMENT_UPLOAD_FIELDS as readonly string[]).includes(name);
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function unknownField(name: string): { path: string; message: string } {
  return {
    path: name,
    message: `is not a known field (send file, metadata, ${DOCUMENT_UPLOAD_FIELDS.join(', ')})`,
  };
}

/**
 * The media type a document is parsed as: the client's `mediaType` field, else the part's own
 * type when it is specific, else the filename's extension; 415 when that is not supported.
 */
function resolveUploadMediaType(
  override: string | undefined,
  declared: string,
  filename: string,
): string {
  if (override !== undefined) {
    if (isSupportedMediaType(override)) return override;
    throw unsupportedDocument(`The mediaType ${JSON.stringify(override)}`);
  }
  if (!GENERIC_PART_TYPES.has(declared)) {
    if (isSupportedMediaType(declared)) return declared;
    throw unsupportedDocument(`The file's type ${JSON.stringify(declared)}`);
  }
  const extension = extname(filename).toLowerCase();
  const byExtension = EXTENSION_MEDIA_TYPES[extension];
  if (byExtension) return byExtension;
  // No extension to go by: a part typed text/plain (or untyped) is plain text.
  if (extension === '' && declared === 'text/plain') return declared;
  throw unsupportedDocument(
    extension === ''
      ? `A file of type ${declared} without an extension`
      : `A ${extension} file of type ${declared}`,
  );
}

/**
 * The body `Library.ingest` reads, from an upload: the fields as given (a missing title becomes
 * the filename without its extension), the resolved `mediaType`, and `content` — the text of a
 * text document (strict UTF-8, a BOM dropped by the parser), or the base64 of a PDF's bytes
 * with `contentEncoding: 'base64'`.
 *
 * @throws {DocumentParseError} `unreadable_document` (422) when a text document is not UTF-8
 */
export function uploadToIngestBody(upload: DocumentUpload): UploadIngestBody {
  const { fields, file } = upload;
  const text = (name: Exclude<DocumentUploadField, 'tags'>): string | undefined => {
    const value = fields[name];
    return typeof value === 'string' ? value : undefined;
  };
  const binary = file.mediaType.split(';')[0]?.trim().toLowerCase() === 'application/pdf';
  const body: UploadIngestBody = {
    title: text('title') ?? titleFromFilename(file.filename),
    content: binary ? file.content.toString('base64') : decodeUtf8(file.content),
    mediaType: file.mediaType,
  };
  if (binary) body.contentEncoding = 'base64';
  for (const name of ['license', 'source', 'author', 'documentId', 'classification'] as const) {
    const value = text(name);
    if (value !== undefined) body[name] = value;
  }
  if (Array.isArray(fields.tags)) body.tags = fields.tags;
  return body;
}

function titleFromFilename(filename: string): string {
  const stem = filename.slice(0, filename.length - extname(filename).length).trim();
  return stem === '' ? filename.trim() : stem;
}

function decodeUtf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new DocumentParseError('unreadable_document', 'The document is not valid UTF-8 text.', {
      cause: error,
    });
  }
}

function tooLarge(what: string, maxBytes: number): LibraryRequestError {
  return new LibraryRequestError({
    type: 'payload-too-large',
    title: 'Payload Too Large',
    status: 413,
    detail: `${what} is larger than ${maxBytes} bytes, the most accepted.`,
  });
}

function unsupportedMediaType(detail: string): LibraryRequestError {
  return new LibraryRequestError({
    type: 'unsupported-media-type',
    title: 'Unsupported Media Type',
    status: 415,
    detail,
  });
}

function unsupportedDocument(what: string): LibraryRequestError {
  return unsupportedMediaType(
    `${what} is not a document type the library reads: send one of ${SUPPORTED_MEDIA_TYPES.join(', ')} (.txt, .md, .html, .pdf).`,
  );
}

function malformed(error: unknown): LibraryRequestError {
  const reason = error instanceof Error ? error.message : String(error);
  return LibraryRequestError.invalid(`The multipart body is malformed: ${reason}.`);
}

function truncated(): LibraryRequestError {
  return LibraryRequestError.invalid('The upload ended before its body was complete.');
}
