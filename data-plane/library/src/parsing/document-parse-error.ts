/** Why a document could not be parsed; each code has one HTTP status (see {@link DOCUMENT_PARSE_ERROR_STATUS}). */
export type DocumentParseErrorCode =
  'unsupported_media_type' | 'document_too_large' | 'unreadable_document';

/** The HTTP status each code maps to when the service answers with RFC 7807 problem+json. */
export const DOCUMENT_PARSE_ERROR_STATUS: Readonly<Record<DocumentParseErrorCode, number>> = {
  unsupported_media_type: 415,
  document_too_large: 413,
  unreadable_document: 422,
};

/** A document the library refuses to parse, with the code and HTTP status that say why. */
export class DocumentParseError extends Error {
  readonly code: DocumentParseErrorCode;
  readonly status: number;

  constructor(code: DocumentParseErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DocumentParseError';
    this.code = code;
    this.status = DOCUMENT_PARSE_ERROR_STATUS[code];
  }
}
