import type { ReadableDocuments, SearchFilters } from '../store/library-store.ts';
import { MilvusVectorIndexError } from './milvus-vector-index-error.ts';
import { CHUNK_FIELD, documentVersionKey } from './milvus-chunk-collection.ts';
import type { DocumentAccess, VectorSearchOptions, VisibleVersion } from './vector-index.ts';

/**
 * A Milvus boolean-expression string literal holding exactly `value`.
 *
 * Milvus lexes a double-quoted literal as in its grammar (`Plan.g4`: any character but `"`, `\`,
 * CR and LF, or a backslash escape) and then decodes it with Go's `strconv.Unquote`. JSON's
 * string escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, `\uXXXX`) are a subset of both, so a
 * JSON string is such a literal: a quote or backslash in the value can never end the literal
 * early or add an operator. Lone UTF-16 surrogates, which Go rejects and UTF-8 cannot hold, become
 * U+FFFD first, as they do in the stored value (see `toMilvusRow`).
 */
export function milvusStringLiteral(value: string): string {
  return JSON.stringify(value.toWellFormed());
}

/** `[a, b]` of string literals. */
function stringList(values: readonly string[]): string {
  return `[${values.map(milvusStringLiteral).join(', ')}]`;
}

/** A document version number, checked: it is written into the expression as is. */
function versionNumber(version: number): number {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new MilvusVectorIndexError({
      code: 'invalid-argument',
      operation: 'expression',
      message: `A version must be a non-negative integer, not ${String(version)}.`,
    });
  }
  return version;
}

function millisecondsOf(date: Date, what: string): string {
  const milliseconds = date.getTime();
  if (Number.isNaN(milliseconds)) {
    throw new MilvusVectorIndexError({
      code: 'invalid-argument',
      operation: 'expression',
      message: `${what} is not a valid date.`,
    });
  }
  return String(milliseconds);
}

/** The chunks of one document, or of some of its versions. */
export function documentExpression(documentId: string, versions?: readonly number[]): string {
  const document = `${CHUNK_FIELD.documentId} == ${milvusStringLiteral(documentId)}`;
  if (versions === undefined) return document;
  const list = versions.map((version) => String(versionNumber(version))).join(', ');
  return `${document} and ${CHUNK_FIELD.version} in [${list}]`;
}

/**
 * Who may read: documents of `classifications`, and the reader's own of `ownClassifications`
 * (as the PostgreSQL store's scope); undefined when the reader may read nothing.
 */
function readableTerm(readable: ReadableDocuments): string | undefined {
  const terms: string[] = [];
  if (readable.classifications.length > 0) {
    terms.push(`${CHUNK_FIELD.classification} in ${stringList(readable.classifications)}`);
  }
  // An owner id is never empty: '' is what the rows of ownerless documents hold.
  if (readable.ownerId && readable.ownClassifications.length > 0) {
    terms.push(
      `(${CHUNK_FIELD.ownerId} == ${milvusStringLiteral(readable.ownerId)} and ` +
        `${CHUNK_FIELD.classification} in ${stringList(readable.ownClassifications)})`,
    );
  }
  if (terms.length <= 1) return terms[0];
  return `(${terms.join(' or ')})`;
}

/** The filters' terms, as the PostgreSQL store applies them. */
function filterTerms(filters: SearchFilters): string[] {
  const terms: string[] = [];
  if (filters.license !== undefined) {
    terms.push(`${CHUNK_FIELD.license} == ${milvusStringLiteral(filters.license)}`);
  }
  if (filters.source !== undefined) {
    terms.push(`${CHUNK_FIELD.source} == ${milvusStringLiteral(filters.source)}`);
  }
  if (filters.tags !== undefined && filters.tags.length > 0) {
    terms.push(`array_contains_all(${CHUNK_FIELD.tags}, ${stringList(filters.tags)})`);
  }
  if (filters.ingestedAfter !== undefined) {
    terms.push(`${CHUNK_FIELD.ingestedAt} >= ${millisecondsOf(filters.ingestedAfter, 'after')}`);
  }
  if (filters.ingestedBefore !== undefined) {
    terms.push(`${CHUNK_FIELD.ingestedAt} < ${millisecondsOf(filters.ingestedBefore, 'before')}`);
  }
  return terms;
}

/**
 * The filter of a search, the same terms as the PostgreSQL store's: each document's current
 * version (or exactly `visibleVersions`), what the reader may read, licence and source equal,
 * all of the tags, ingested in `[ingestedAfter, ingestedBefore)`. Undefined when nothing can
 * match (no readable classification, or no visible version): there is nothing to ask Milvus.
 */
export function searchFilterExpression(
  options: Pick<VectorSearchOptions, 'filters' | 'readable' | 'visibleVersions'>,
): string | undefined {
  const readable = readableTerm(options.readable);
  if (readable === undefined || options.visibleVersions?.length === 0) return undefined;
  return [visibilityTerm(options.visibleVersions), readable, ...filterTerms(options.filters)].join(
    ' and ',
  );
}

function visibilityTerm(visibleVersions: readonly VisibleVersion[] | undefined): string {
  if (visibleVersions === undefined) return `${CHUNK_FIELD.current} == true`;
  const keys = visibleVersions.map(({ documentId, version }) =>
    documentVersionKey(documentId, versionNumber(version)),
  );
  return `${CHUNK_FIELD.documentVersion} in ${stringList(keys)}`;
}

/**
 * What `setCurrentVersion` rewrites: the chunks of `version` not yet current (none when
 * `version` is undefined), and the document's other chunks still current.
 */
export function currentVersionExpressions(
  documentId: string,
  version: number | undefined,
): { toMakeCurrent: string | undefined; toRetire: string } {
  const document = documentExpression(documentId);
  const current = `${CHUNK_FIELD.current} == true`;
  if (version === undefined)
    return { toMakeCurrent: undefined, toRetire: `${document} and ${current}` };
  const number = String(versionNumber(version));
  return {
    toMakeCurrent: `${document} and ${CHUNK_FIELD.version} == ${number} and ${CHUNK_FIELD.current} == false`,
    toRetire: `${document} and ${CHUNK_FIELD.version} != ${number} and ${current}`,
  };
}

/** The document's chunks whose classification or owner is not yet `access`'s. */
export function documentAccessExpression(documentId: string, access: DocumentAccess): string {
  const classification = milvusStringLiteral(access.classification);
  const owner = milvusStringLiteral(access.ownerId ?? '');
  return (
    `${documentExpression(documentId)} and ` +
    `(${CHUNK_FIELD.classification} != ${classification} or ${CHUNK_FIELD.ownerId} != ${owner})`
  );
}
