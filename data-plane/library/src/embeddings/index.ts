export { type EmbeddingProvider, type EmbedOptions } from './embedding-provider.ts';
export {
  EmbeddingProviderError,
  type EmbeddingProviderErrorCode,
} from './embedding-provider-error.ts';
export {
  createLexicalHashEmbedder,
  type LexicalHashEmbedderOptions,
  lexicalHashVector,
} from './lexical-hash-embedder.ts';
export {
  createOpenAiCompatibleEmbedder,
  type OpenAiCompatibleEmbedderOptions,
} from './openai-compatible-embedder.ts';
