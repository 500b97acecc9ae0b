import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/canonical-json.ts';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units at every depth and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    // RFC 8785 §3.2.3: "\u20ac" sorts after "\r" and before "\ud83d\ude00" by code unit.
    expect(canonicalJson({ '\u{1F600}': 1, '\u20ac': 2, '\r': 3, '1': 4 })).toBe(
      '{"\\r":3,"1":4,"€":2,"😀":1}',
    );
  });

  it('writes numbers and strings as ECMAScript does, as RFC 8785 prescribes', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1 + 0.2, 333333333.3333333])).toBe(
      '[1e+21,1e-7,0,0.30000000000000004,333333333.3333333]',
    );
    expect(canonicalJson('line\nbreak "quoted" \u0001')).toBe(
      '"line\\nbreak \\"quoted\\" \\u0001"',
    );
  });

  it('leaves out undefined members, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: true })).toBe('{"b":true}');
  });

  it('is independent of member order', () => {
    expect(canonicalJson({ x: 1, y: [1, 2] })).toBe(canonicalJson({ y: [1, 2], x: 1 }));
  });

  it('rejects numbers JSON cannot write', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(TypeError);
  });
});
