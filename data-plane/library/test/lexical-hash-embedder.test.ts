import { describe, expect, it } from 'vitest';
import { createLexicalHashEmbedder, lexicalHashVector } from '../src/embeddings/index.ts';
import { cosineSimilarity } from '../src/retrieval/index.ts';

const norm = (vector: Float32Array): number =>
  Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));

describe('createLexicalHashEmbedder', () => {
  const embedder = createLexicalHashEmbedder();

  it('describes itself: no model, 384 dimensions by default', () => {
    expect(embedder).toMatchObject({
      id: 'lexical-hash',
      model: 'lexical-hash-v1',
      dimensions: 384,
    });
    expect(createLexicalHashEmbedder({ dimensions: 64 }).dimensions).toBe(64);
    expect(() => createLexicalHashEmbedder({ dimensions: 0 })).toThrow(RangeError);
  });

  it('returns one unit vector per text, in order, the same every time', async () => {
    const texts = ['Tenants own their data.', 'Ledgers balance.', 'Tenants own their data.'];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(384);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    expect([...(vectors[0] ?? [])]).toEqual([...(vectors[2] ?? [])]);
    expect([...lexicalHashVector('Ledgers balance.', 384)]).toEqual([...(vectors[1] ?? [])]);
  });

  it('ignores case, accents and punctuation', () => {
    const a = lexicalHashVector('Café DÉJÀ vu!', 384);
    const b = lexicalHashVector('cafe deja vu', 384);
    expect(cosineSimilarity(a, b)).toBeCloseTo(1, 5);
  });

  it('ranks texts sharing words, phrases and spellings above unrelated ones', () => {
    const query = lexicalHashVector('how do I rotate the tenant encryption keys', 384);
    const related = lexicalHashVector(
      'Rotating tenant encryption keys happens every 90 days.',
      384,
    );
    const unrelated = lexicalHashVector('The escrow payout reconciles against Stripe.', 384);
    expect(cosineSimilarity(query, related)).toBeGreaterThan(0.3);
    expect(cosineSimilarity(query, related)).toBeGreaterThan(
      cosineSimilarity(query, unrelated) + 0.2,
    );
  });

  it('tells word order apart through bigrams', () => {
    const a = lexicalHashVector('dog bites man', 384);
    expect(cosineSimilarity(a, lexicalHashVector('man bites dog', 384))).toBeLessThan(0.99);
    expect(cosineSimilarity(a, lexicalHashVector('man bites dog', 384))).toBeGreaterThan(0.5);
  });

  it('gives the zero vector for text without words', () => {
    expect(norm(lexicalHashVector(' … !! ', 384))).toBe(0);
  });

  it('rejects when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(embedder.embed(['x'], { signal: controller.signal })).rejects.toThrow('stop');
  });
});
