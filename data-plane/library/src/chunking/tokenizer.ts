import { createRequire } from 'node:module';
import type { Tiktoken } from 'js-tiktoken/lite';

/** Counts tokens the way a model would see them. */
export interface Tokenizer {
  /** Names the encoding, e.g. `cl100k_base` or `approximate`. */
  readonly id: string;
  count(text: string): number;
}

interface TiktokenEncoder {
  encode(
    text: string,
    allowedSpecial?: string[] | 'all',
    disallowedSpecial?: string[] | 'all',
  ): number[];
}

type TiktokenRanks = ConstructorParameters<typeof Tiktoken>[0];

let cl100kEncoder: TiktokenEncoder | undefined;

/**
 * OpenAI's `cl100k_base` BPE through js-tiktoken, with the ranks that ship inside the npm
 * package (nothing is fetched). The ranks (~300 ms to load) are loaded on first use and
 * shared by every tokenizer this returns. Text that looks like a special token
 * (`<|endoftext|>`) is counted as ordinary text.
 */
export function createCl100kTokenizer(): Tokenizer {
  return {
    id: 'cl100k_base',
    count: (text) => (text === '' ? 0 : loadCl100k().encode(text, [], []).length),
  };
}

/**
 * Loads lazily and synchronously, so that importing the library costs nothing and
 * `count` stays synchronous. The CommonJS builds are the same code as the ES ones.
 */
function loadCl100k(): TiktokenEncoder {
  if (!cl100kEncoder) {
    const require = createRequire(import.meta.url);
    const { Tiktoken: Encoder } = require('js-tiktoken/lite') as { Tiktoken: typeof Tiktoken };
    // The CommonJS build exports the ranks object itself (its typings describe the ES default export).
    const ranks = require('js-tiktoken/ranks/cl100k_base') as TiktokenRanks;
    cl100kEncoder = new Encoder(ranks);
  }
  return cl100kEncoder;
}

/**
 * A fast estimate (about a hundred times faster than BPE): a word counts one token per
 * ten characters started, a CJK character or any other visible character one. On English
 * prose it lands within about 20% of `cl100k_base`; it is not a limit a model will honour.
 */
export function createApproximateTokenizer(): Tokenizer {
  return { id: 'approximate', count: approximateTokenCount };
}

/**
 * A Han, kana or Hangul character (about one token each), a run of other letters and digits
 * (a token per ten characters started: common words are one token), or one other visible
 * character.
 */
const APPROXIMATE_TOKEN_PATTERN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[[\p{L}\p{N}_]--[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]]+|[^\s\p{L}\p{N}_]/gv;

function approximateTokenCount(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(APPROXIMATE_TOKEN_PATTERN)) {
    tokens += Math.ceil(match[0].length / 10);
  }
  return tokens;
}
