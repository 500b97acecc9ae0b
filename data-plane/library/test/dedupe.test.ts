import { describe, expect, it } from 'vitest';
import {
  bandsAndRows,
  contentDigest,
  createNearDuplicateIndex,
  estimateJaccard,
  minhashBands,
  minhashSignature,
  normalizeForDigest,
  PERSISTED_BANDING,
  signatureFromBase64,
  signatureToBase64,
} from '../src/dedupe/index.ts';

/** Deterministic prose: `count` words from a 2,000-word made-up vocabulary. */
function prose(seed: number, count: number): string {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state;
  };
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vel', 'do', 'ri', 'an', 'que', 'bor'];
  const vocabulary = Array.from(
    { length: 2000 },
    (_, index) =>
      [0, 1, 2]
        .map((part) => syllables[(index * 7 + part * 5 + (index >> part)) % syllables.length])
        .join('') + String(index % 97),
  );
  const words = Array.from({ length: count }, () => vocabulary[next() % vocabulary.length]);
  return words.map((word, index) => (index % 15 === 14 ? `${word ?? ''}.` : word)).join(' ');
}

describe('normalizeForDigest and contentDigest', () => {
  it('normalises width, case, invisible characters and whitespace', () => {
    expect(normalizeForDigest('  Ｈｅｌｌｏ\u200B   WORLD\n\tStraße ')).toBe('hello world strasse');
    expect(normalizeForDigest('ﬁle caf\u0065\u0301')).toBe('file café');
  });

  it('digests what a reader calls the same text to the same SHA-256', () => {
    const digest = contentDigest('The Quick  brown fox.');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(contentDigest('the quick brown\u00A0fox.\u200D')).toBe(digest);
    expect(contentDigest('The quick brown fox!')).not.toBe(digest);
    expect(contentDigest('')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});

describe('minhashSignature and estimateJaccard', () => {
  const original = prose(1, 2000);

  it('is deterministic and has the requested length', () => {
    const signature = minhashSignature(original);
    expect(signature).toBeInstanceOf(Uint32Array);
    expect(signature).toHaveLength(128);
    expect(minhashSignature(original)).toEqual(signature);
    expect(minhashSignature(original, { numHashes: 64 })).toHaveLength(64);
    expect(minhashSignature(original, { seed: 7 })).not.toEqual(signature);
  });

  it('gives identical texts similarity 1, also when written differently', () => {
    const signature = minhashSignature(original);
    expect(estimateJaccard(signature, minhashSignature(original))).toBe(1);
    expect(
      estimateJaccard(signature, minhashSignature(original.toUpperCase().replaceAll(' ', '  '))),
    ).toBe(1);
  });

  it('keeps a 2,000-word text with one sentence changed above 0.85', () => {
    const sentences = original.split('. ');
    sentences[40] =
      'this sentence was rewritten by an editor who disagreed with the original wording';
    const edited = sentences.join('. ');
    const similarity = estimateJaccard(minhashSignature(original), minhashSignature(edited));
    expect(similarity).toBeGreaterThan(0.85);
    expect(similarity).toBeLessThan(1);
  });

  it('gives unrelated texts a low similarity', () => {
    const similarity = estimateJaccard(
      minhashSignature(original),
      minhashSignature(prose(2, 2000)),
    );
    expect(similarity).toBeLessThan(0.1);
  });

  it('supports character shingles', () => {
    const a = minhashSignature('the library keeps every document', {
      shingleUnit: 'char',
      shingleSize: 4,
    });
    const b = minhashSignature('the library keeps every documents', {
      shingleUnit: 'char',
      shingleSize: 4,
    });
    expect(estimateJaccard(a, b)).toBeGreaterThan(0.7);
  });

  it('handles texts shorter than a shingle and empty texts', () => {
    expect(estimateJaccard(minhashSignature('two words'), minhashSignature('Two  Words'))).toBe(1);
    expect(minhashSignature('').every((value) => value === 0xffff_ffff)).toBe(true);
  });

  it('refuses signatures of different lengths and bad options', () => {
    expect(() => estimateJaccard(new Uint32Array(4), new Uint32Array(8))).toThrow(RangeError);
    expect(() => minhashSignature('x', { numHashes: 0 })).toThrow(RangeError);
  });

  it('round-trips through base64 and plain arrays', () => {
    const signature = minhashSignature(original);
    const encoded = signatureToBase64(signature);
    expect(encoded).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(signatureFromBase64(encoded)).toEqual(signature);
    expect(signatureToBase64(Array.from(signature))).toBe(encoded);
    expect(
      estimateJaccard(JSON.parse(JSON.stringify(Array.from(signature))) as number[], signature),
    ).toBe(1);
    expect(() => signatureFromBase64('AAA=')).toThrow(RangeError);
  });
});

describe('createNearDuplicateIndex', () => {
  const texts = Array.from({ length: 30 }, (_, index) => prose(100 + index, 2000));
  const edit = (text: string): string => {
    const sentences = text.split('. ');
    sentences[10] = 'a different sentence stands here now and says something else entirely';
    return sentences.join('. ');
  };

  function indexOf(options = {}) {
    const index = createNearDuplicateIndex(options);
    texts.forEach((text, position) => index.add(`doc-${position}`, minhashSignature(text)));
    return index;
  }

  it('finds an edited copy and nothing unrelated', () => {
    const index = indexOf();
    expect(index.size).toBe(30);
    const matches = index.query(minhashSignature(edit(texts[7] ?? '')));
    expect(matches.map((match) => match.id)).toEqual(['doc-7']);
    expect(matches[0]?.similarity).toBeGreaterThan(0.85);
    expect(index.query(minhashSignature(prose(999, 2000)))).toEqual([]);
  });

  it('finds an identical text with similarity 1, most similar first', () => {
    const index = indexOf();
    index.add('copy-of-3', minhashSignature(texts[3] ?? ''));
    index.add('edit-of-3', minhashSignature(edit(texts[3] ?? '')));
    const matches = index.query(minhashSignature(texts[3] ?? ''));
    expect(matches.map((match) => match.id)).toEqual(['copy-of-3', 'doc-3', 'edit-of-3']);
    expect(matches[0]?.similarity).toBe(1);
  });

  it('honours a configurable threshold', () => {
    const heavilyEdited = (texts[5] ?? '')
      .split(' ')
      .map((word, position) => (position % 30 === 0 ? 'changed' : word))
      .join(' ');
    const strict = indexOf({ threshold: 0.95 });
    const loose = indexOf({ threshold: 0.5 });
    const probe = minhashSignature(heavilyEdited);
    expect(strict.query(probe)).toEqual([]);
    expect(loose.query(probe).map((match) => match.id)).toEqual(['doc-5']);
  });

  it('replaces and removes entries', () => {
    const index = indexOf();
    index.add('doc-1', minhashSignature(prose(555, 500)));
    expect(index.query(minhashSignature(texts[1] ?? ''))).toEqual([]);
    expect(index.remove('doc-2')).toBe(true);
    expect(index.remove('doc-2')).toBe(false);
    expect(index.query(minhashSignature(texts[2] ?? ''))).toEqual([]);
    expect(index.size).toBe(29);
  });

  it('takes explicit bands and rows, or derives them from the threshold', () => {
    expect(createNearDuplicateIndex({ bands: 16, rows: 8 })).toMatchObject({ bands: 16, rows: 8 });
    expect(bandsAndRows(0.85, 128)).toEqual({ bands: 12, rows: 10 });
    expect(() => createNearDuplicateIndex({ bands: 20, rows: 10 })).toThrow(RangeError);
    expect(() => createNearDuplicateIndex({ threshold: 0 })).toThrow(RangeError);
    expect(() => indexOf().add('short', new Uint32Array(64))).toThrow(RangeError);
  });
});

describe('minhashBands (the LSH index kept in the tenant database)', () => {
  const bucketsOf = (text: string) =>
    new Set(minhashBands(minhashSignature(text)).map((b) => `${b.band}:${b.bucket}`));
  const shared = (a: Set<string>, b: Set<string>) => [...a].filter((key) => b.has(key)).length;

  it('puts a lightly edited copy in a shared bucket, and an unrelated text in none', () => {
    const original = prose(7, 2000);
    const edited = original
      .split(' ')
      .map((word, position) => (position % 25 === 0 ? 'edited' : word))
      .join(' ');
    expect(shared(bucketsOf(original), bucketsOf(edited))).toBeGreaterThan(0);
    expect(shared(bucketsOf(original), bucketsOf(prose(8, 2000)))).toBe(0);
  });

  it('cuts every signature into the persisted banding, as signed 64-bit buckets', () => {
    const bands = minhashBands(minhashSignature(prose(9, 300)));
    expect(bands).toHaveLength(PERSISTED_BANDING.bands);
    expect(PERSISTED_BANDING.bands * PERSISTED_BANDING.rows).toBeLessThanOrEqual(128);
    for (const { bucket } of bands) {
      expect(BigInt(bucket)).toBeGreaterThanOrEqual(-(2n ** 63n));
      expect(BigInt(bucket)).toBeLessThan(2n ** 63n);
    }
  });
});
