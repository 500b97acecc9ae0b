import { describe, expect, it } from 'vitest';
import { cosineSimilarity, exactNearest, reciprocalRankFusion } from '../src/retrieval/index.ts';

const ids = (...values: string[]): Array<{ id: string }> => values.map((id) => ({ id }));

describe('reciprocalRankFusion', () => {
  it('sums 1 / (k + rank) over the rankings and records each rank', () => {
    const fused = reciprocalRankFusion([ids('a', 'b', 'c'), ids('c', 'a', 'd')]);
    expect(fused.map((result) => result.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(fused[0]).toEqual({ id: 'a', score: 1 / 61 + 1 / 62, ranks: [1, 2] });
    expect(fused[3]).toEqual({ id: 'd', score: 1 / 63, ranks: [undefined, 3] });
  });

  it('applies weights and k', () => {
    const fused = reciprocalRankFusion([ids('a', 'b'), ids('b', 'a')], { k: 0, weights: [1, 3] });
    expect(fused.map((result) => [result.id, result.score])).toEqual([
      ['b', 1 / 2 + 3],
      ['a', 1 + 3 / 2],
    ]);
  });

  it('breaks ties by best rank, then by first appearance, whatever the input', () => {
    expect(reciprocalRankFusion([ids('a', 'b'), ids('b', 'a')]).map((result) => result.id)).toEqual(
      ['a', 'b'],
    );
    expect(reciprocalRankFusion([ids('x'), ids('y')]).map((result) => result.id)).toEqual([
      'x',
      'y',
    ]);
    expect(reciprocalRankFusion([ids('y'), ids('x')]).map((result) => result.id)).toEqual([
      'y',
      'x',
    ]);
    const many = reciprocalRankFusion([ids('p', 'q', 'r'), ids('s', 't', 'u')]);
    expect(many.map((result) => result.id)).toEqual(['p', 's', 'q', 't', 'r', 'u']);
  });

  it('counts an id once per ranking, at its best rank', () => {
    const fused = reciprocalRankFusion([ids('a', 'a', 'b')]);
    expect(fused).toEqual([
      { id: 'a', score: 1 / 61, ranks: [1] },
      { id: 'b', score: 1 / 63, ranks: [3] },
    ]);
  });

  it('handles no rankings and empty rankings, and refuses bad options', () => {
    expect(reciprocalRankFusion([])).toEqual([]);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
    expect(() => reciprocalRankFusion([ids('a')], { weights: [1, 2] })).toThrow(RangeError);
    expect(() => reciprocalRankFusion([ids('a')], { k: -1 })).toThrow(RangeError);
  });
});

describe('cosineSimilarity', () => {
  it('is 1 for the same direction, -1 for the opposite, 0 for orthogonal or zero vectors', () => {
    const a = Float32Array.of(1, 2, 3);
    expect(cosineSimilarity(a, Float32Array.of(2, 4, 6))).toBeCloseTo(1, 6);
    expect(cosineSimilarity(a, Float32Array.of(-1, -2, -3))).toBeCloseTo(-1, 6);
    expect(cosineSimilarity(Float32Array.of(1, 0), Float32Array.of(0, 1))).toBe(0);
    expect(cosineSimilarity(Float32Array.of(0, 0), Float32Array.of(0, 1))).toBe(0);
    expect(() => cosineSimilarity(a, Float32Array.of(1, 2))).toThrow(RangeError);
  });
});

describe('exactNearest', () => {
  const vectors = [
    { id: 'east', vector: Float32Array.of(1, 0) },
    { id: 'north', vector: Float32Array.of(0, 1) },
    { id: 'north-east', vector: Float32Array.of(1, 1) },
    { id: 'west', vector: Float32Array.of(-1, 0) },
    { id: 'east-again', vector: Float32Array.of(2, 0) },
  ];

  it('returns the k most similar by cosine, best first, ties in input order', () => {
    const nearest = exactNearest(Float32Array.of(1, 0.1), vectors, 3);
    expect(nearest.map((result) => result.id)).toEqual(['east', 'east-again', 'north-east']);
    expect(nearest[0]?.score).toBeCloseTo(1 / Math.sqrt(1.01), 6);
  });

  it('returns everything when k exceeds the vectors, nothing when k is 0', () => {
    expect(exactNearest(Float32Array.of(0, 1), vectors, 10).map((result) => result.id)).toEqual([
      'north',
      'north-east',
      'east',
      'west',
      'east-again',
    ]);
    expect(exactNearest(Float32Array.of(0, 1), vectors, 0)).toEqual([]);
  });

  it('agrees with sorting every cosine on random vectors', () => {
    let state = 7;
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648 - 0.5;
    };
    const many = Array.from({ length: 500 }, (_, index) => ({
      id: `v${index}`,
      vector: Float32Array.from({ length: 16 }, random),
    }));
    const query = Float32Array.from({ length: 16 }, random);
    const expected = many
      .map(({ id, vector }) => ({ id, score: cosineSimilarity(query, vector) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);
    const nearest = exactNearest(query, many, 10);
    expect(nearest.map((result) => result.id)).toEqual(expected.map((result) => result.id));
    nearest.forEach((result, index) =>
      expect(result.score).toBeCloseTo(expected[index]?.score ?? NaN, 6),
    );
  });

  it('refuses vectors of another length', () => {
    expect(() => exactNearest(Float32Array.of(1, 0, 0), vectors, 1)).toThrow(RangeError);
  });
});
