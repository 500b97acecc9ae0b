export { type Chunk, chunkDocument, type ChunkOptions } from './chunk-document.ts';
export { createApproximateTokenizer, createCl100kTokenizer, type Tokenizer } from './tokenizer.ts';
