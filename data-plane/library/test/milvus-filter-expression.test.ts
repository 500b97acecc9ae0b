import { describe, expect, it } from 'vitest';
import type { ReadableDocuments } from '../src/store/library-store.ts';
import {
  currentVersionExpressions,
  documentAccessExpression,
  documentExpression,
  milvusStringLiteral,
  searchFilterExpression,
} from '../src/vector/milvus-filter-expression.ts';
import { MilvusVectorIndexError } from '../src/vector/milvus-vector-index-error.ts';
import { lexMilvusExpression } from './milvus-protocol-double/milvus-expression-lexer.ts';

/** Values that would break or extend an expression if they were pasted in unescaped. */
const HOSTILE_VALUES = [
  'plain',
  '',
  'say "hi"',
  'back\\slash',
  'ends with a backslash\\',
  '\\"',
  '\\\\" or current == false or "',
  'MIT" or license != "x',
  "it's",
  'line\nbreak\r\nand\ttab',
  'control \u0000 \u0001 \u001f \u007f',
  'Ünïcødé 漢字 😀 \u2028',
  '{template}',
  ') or (true',
];

describe('Milvus string literals (escaping, read back with the grammar Milvus lexes them by)', () => {
  it.each(HOSTILE_VALUES)('%j is one literal holding exactly that value', (value) => {
    const literal = milvusStringLiteral(value);
    expect(lexMilvusExpression(literal)).toEqual({ skeleton: '$', literals: [value] });
  });

  it('escapes only what a literal cannot hold raw', () => {
    expect(milvusStringLiteral('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(milvusStringLiteral('new\nline')).toBe('"new\\nline"');
    expect(milvusStringLiteral('漢字')).toBe('"漢字"');
  });

  it('turns a lone surrogate (not UTF-8, refused by Go) into U+FFFD', () => {
    expect(lexMilvusExpression(milvusStringLiteral('a\ud800b')).literals).toEqual(['a\ufffdb']);
  });
});

describe('Milvus search filter expressions', () => {
  const INTERNAL: ReadableDocuments = {
    classifications: ['internal'],
    ownerId: undefined,
    ownClassifications: [],
  };

  it('has the current-version and readable terms without filters', () => {
    expect(searchFilterExpression({ filters: {}, readable: INTERNAL })).toBe(
      'current == true and classification in ["internal"]',
    );
  });

  it('lets a reader see their own documents of more classifications', () => {
    const readable = {
      classifications: ['public', 'internal'],
      ownerId: 'user:u-1',
      ownClassifications: ['confidential', 'restricted'],
    };
    expect(searchFilterExpression({ filters: {}, readable })).toBe(
      'current == true and (classification in ["public", "internal"] or ' +
        '(owner_id == "user:u-1" and classification in ["confidential", "restricted"]))',
    );
    expect(
      searchFilterExpression({ filters: {}, readable: { ...readable, classifications: [] } }),
    ).toBe(
      'current == true and (owner_id == "user:u-1" and classification in ["confidential", "restricted"])',
    );
  });

  it('is undefined when the reader may read nothing, or no version is visible', () => {
    const nothing = { classifications: [], ownerId: 'user:u-1', ownClassifications: [] };
    expect(searchFilterExpression({ filters: {}, readable: nothing })).toBeUndefined();
    // No owner: "own documents" would otherwise match every ownerless one ('').
    const noOwner = { classifications: [], ownerId: '', ownClassifications: ['restricted'] };
    expect(searchFilterExpression({ filters: {}, readable: noOwner })).toBeUndefined();
    expect(
      searchFilterExpression({ filters: {}, readable: INTERNAL, visibleVersions: [] }),
    ).toBeUndefined();
  });

  it('writes every filter as the PostgreSQL store applies it', () => {
    const expression = searchFilterExpression({
      filters: {
        license: 'Apache-2.0',
        source: 'https://example.com/a',
        tags: ['policy', 'hr'],
        ingestedAfter: new Date('2026-01-01T00:00:00Z'),
        ingestedBefore: new Date('2026-02-01T00:00:00Z'),
      },
      readable: INTERNAL,
    });
    expect(expression).toBe(
      'current == true and classification in ["internal"] and license == "Apache-2.0" and ' +
        'source == "https://example.com/a" and array_contains_all(tags, ["policy", "hr"]) and ' +
        'ingested_at >= 1767225600000 and ingested_at < 1769904000000',
    );
  });

  it('names the visible versions instead of the current ones when given', () => {
    expect(
      searchFilterExpression({
        filters: { license: 'MIT' },
        readable: INTERNAL,
        visibleVersions: [
          { documentId: 'd-1', version: 1 },
          { documentId: 'd-2', version: 3 },
        ],
      }),
    ).toBe(
      'document_version in ["d-1:1", "d-2:3"] and classification in ["internal"] and license == "MIT"',
    );
  });

  it('cannot be extended by hostile licences, sources, tags, owners or classifications', () => {
    for (const value of HOSTILE_VALUES) {
      const expression = searchFilterExpression({
        filters: { license: value, source: value, tags: [value, value] },
        readable: { classifications: [value], ownerId: `${value}!`, ownClassifications: [value] },
        visibleVersions: [{ documentId: value, version: 2 }],
      });
      expect(lexMilvusExpression(expression ?? '')).toEqual({
        skeleton:
          'document_version in [$] and (classification in [$] or (owner_id == $ and classification in [$])) and ' +
          'license == $ and source == $ and array_contains_all(tags, [$, $])',
        literals: [`${value}:2`, value, `${value}!`, value, value, value, value, value],
      });
    }
  });

  it('refuses versions and dates that are not numbers it can write', () => {
    expect(() =>
      searchFilterExpression({
        filters: {},
        readable: INTERNAL,
        visibleVersions: [{ documentId: 'd', version: 1.5 }],
      }),
    ).toThrow(MilvusVectorIndexError);
    expect(() =>
      searchFilterExpression({ filters: { ingestedAfter: new Date('nope') }, readable: INTERNAL }),
    ).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});

describe('Milvus document expressions', () => {
  it('selects a document, or some of its versions', () => {
    expect(documentExpression('d-1')).toBe('document_id == "d-1"');
    expect(documentExpression('d-1', [1, 3])).toBe('document_id == "d-1" and version in [1, 3]');
  });

  it('keeps a hostile document id inside its literal', () => {
    const id = 'x" or document_id != "';
    expect(lexMilvusExpression(documentExpression(id, [2]))).toEqual({
      skeleton: 'document_id == $ and version in [2]',
      literals: [id],
    });
  });

  it('rewrites the chosen version to current and the others to not current', () => {
    expect(currentVersionExpressions('d-1', 3)).toEqual({
      toMakeCurrent: 'document_id == "d-1" and version == 3 and current == false',
      toRetire: 'document_id == "d-1" and version != 3 and current == true',
    });
    expect(currentVersionExpressions('d-1', undefined)).toEqual({
      toMakeCurrent: undefined,
      toRetire: 'document_id == "d-1" and current == true',
    });
  });

  it("selects the document's chunks whose access is not yet the new one", () => {
    expect(
      documentAccessExpression('d-1', { classification: 'restricted', ownerId: 'user:u-1' }),
    ).toBe('document_id == "d-1" and (classification != "restricted" or owner_id != "user:u-1")');
    expect(documentAccessExpression('d-1', { classification: 'public', ownerId: undefined })).toBe(
      'document_id == "d-1" and (classification != "public" or owner_id != "")',
    );
  });
});
