import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findStructuralSchemaViolations } from '../src/kubernetes/structural-schema-violations.ts';
import {
  refineSchema,
  StructuralSchemaError,
  toStructuralSchema,
} from '../src/kubernetes/structural-schema.ts';

function convert(schema: z.ZodType) {
  return toStructuralSchema(z.toJSONSchema(schema));
}

describe('toStructuralSchema', () => {
  it('types every node, keeps required lists and drops additionalProperties: false', () => {
    expect(convert(z.strictObject({ name: z.string(), tags: z.array(z.string()) }))).toEqual({
      type: 'object',
      required: ['name', 'tags'],
      properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
    });
  });

  it('writes OpenAPI v3.0 bounds: exclusive integer bounds move to the next integer', () => {
    expect(convert(z.number().int().positive())).toEqual({ type: 'integer', minimum: 1 });
    expect(convert(z.number().int().nonnegative())).toEqual({ type: 'integer', minimum: 0 });
    expect(convert(z.number().gt(0.5))).toEqual({
      type: 'number',
      minimum: 0.5,
      exclusiveMinimum: true,
    });
  });

  it('keeps enums, lengths and defaults', () => {
    expect(convert(z.enum(['a', 'b']))).toEqual({ type: 'string', enum: ['a', 'b'] });
    expect(convert(z.string().min(1).max(5))).toEqual({
      type: 'string',
      minLength: 1,
      maxLength: 5,
    });
  });

  it('keeps a format Kubernetes checks, without the pattern zod writes for it', () => {
    expect(convert(z.iso.datetime())).toEqual({ type: 'string', format: 'date-time' });
  });

  it('turns records into typed maps', () => {
    expect(convert(z.record(z.string(), z.number()))).toEqual({
      type: 'object',
      additionalProperties: { type: 'number' },
    });
  });

  it.each([
    ['a union', z.union([z.string(), z.number()])],
    ['a nullable field', z.object({ a: z.string().nullable() })],
    ['a literal (const)', z.literal('x')],
    ['a tuple', z.tuple([z.string()])],
  ])('refuses what no structural schema can say: %s', (_case, schema) => {
    expect(() => convert(schema)).toThrow(StructuralSchemaError);
  });
});

describe('refineSchema', () => {
  const base = convert(
    z.strictObject({
      name: z.string(),
      flag: z.boolean(),
      items: z.array(z.strictObject({ key: z.string() })),
    }),
  );

  it('adds keywords at paths, through lists, without touching the original', () => {
    const refined = refineSchema(base, {
      name: { pattern: '^[a-z]+$' },
      'items[].key': { maxLength: 3 },
    });
    expect(refined.properties?.name?.pattern).toBe('^[a-z]+$');
    expect(refined.properties?.items?.items).toMatchObject({
      properties: { key: { maxLength: 3 } },
    });
    expect(base.properties?.name?.pattern).toBeUndefined();
  });

  it('takes a defaulted property out of its parent’s required list', () => {
    expect(refineSchema(base, { flag: { default: false } }).required).toEqual(['name', 'items']);
  });

  it('refuses a path that does not exist', () => {
    expect(() => refineSchema(base, { missing: { maxLength: 1 } })).toThrow(StructuralSchemaError);
  });
});

describe('findStructuralSchemaViolations', () => {
  it('accepts a structural schema', () => {
    expect(
      findStructuralSchemaViolations({
        type: 'object',
        properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } },
      }),
    ).toEqual([]);
  });

  it.each([
    ['an untyped property', { type: 'object', properties: { a: {} } }, '.a: no type'],
    ['a $ref', { type: 'object', properties: { a: { type: 'object', $ref: '#/x' } } }, '$ref'],
    [
      'properties beside additionalProperties',
      {
        type: 'object',
        properties: {
          a: { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
        },
      },
      'mutually exclusive',
    ],
    [
      'a type under a junctor',
      { type: 'object', properties: { a: { type: 'string', anyOf: [{ type: 'string' }] } } },
      'not allowed under a junctor',
    ],
    [
      'a field declared only under a junctor',
      {
        type: 'object',
        properties: { a: { type: 'object', oneOf: [{ properties: { b: {} } }] } },
      },
      'not declared outside',
    ],
    [
      'metadata restricted beyond its name',
      { type: 'object', properties: { metadata: { type: 'object', properties: { labels: {} } } } },
      'only name and generateName',
    ],
    ['uniqueItems', { type: 'array', uniqueItems: true, items: { type: 'string' } }, 'uniqueItems'],
    [
      'a default that does not fit',
      { type: 'object', properties: { a: { type: 'boolean', default: 'yes' } } },
      'default does not fit',
    ],
    [
      'a map-list without required keys',
      {
        type: 'object',
        properties: {
          a: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['k'],
            items: { type: 'object', properties: { k: { type: 'string' } } },
          },
        },
      },
      'list-type map needs required scalar map keys',
    ],
    [
      'a CEL rule without a message',
      { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a == 1' }] },
      'has no message',
    ],
  ])('finds %s', (_case, schema, expected) => {
    expect(findStructuralSchemaViolations(schema).join('\n')).toContain(expected);
  });
});
