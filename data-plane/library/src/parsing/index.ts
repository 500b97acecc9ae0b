export {
  DocumentParseError,
  type DocumentParseErrorCode,
  DOCUMENT_PARSE_ERROR_STATUS,
} from './document-parse-error.ts';
export {
  DEFAULT_MAX_DOCUMENT_BYTES,
  type DocumentInput,
  isSupportedMediaType,
  parseDocument,
  type ParseDocumentOptions,
} from './parse-document.ts';
export type * from './parsed-document.ts';
export { SUPPORTED_MEDIA_TYPES } from './parsed-document.ts';
