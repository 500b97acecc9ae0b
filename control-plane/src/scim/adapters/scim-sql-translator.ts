import type { Compare, Filter, ValuePath } from 'scim2-parse-filter';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import type { ResolvedAttribute } from '../domain/scim-attribute-path.ts';
import { resolveAttributePath } from '../domain/scim-attribute-path.ts';
import {
  findAttribute,
  type ScimAttribute,
  type ScimResourceType,
} from '../domain/scim-schemas.ts';
import { isUuid } from './uuid.ts';

type Sql = Prisma.Sql;
const { sql, raw, join } = Prisma;

/**
 * An attribute served from a column instead of the stored resource JSON. `text` columns
 * may name a `folded` twin that holds the value lower-cased by JavaScript (userName →
 * user_name_key), which matches the in-memory evaluator exactly and is indexed.
 */
export type ScimSqlColumn =
  | { kind: 'text'; sql: string; folded?: string }
  | { kind: 'uuid'; sql: string }
  | { kind: 'boolean'; sql: string }
  | { kind: 'instant'; sql: string };

/** How one resource type is stored: which attributes are columns, which are derived. */
export interface ScimSqlTable {
  resourceType: ScimResourceType;
  /** The JSONB column (with its table alias) that holds the resource as written. */
  resource: string;
  /** Column-backed attributes by canonical path (`userName`, `meta.created`). */
  columns: Record<string, ScimSqlColumn>;
  /** Attributes computed when a resource is served (`groups`, `meta`): never translated. */
  derived: readonly string[];
}

/**
 * How the database lower-cases text for caseExact=false comparisons, or undefined when it
 * cannot do so as JavaScript does (a `C`-locale database folds ASCII only): those
 * comparisons are then left to the in-memory evaluator.
 */
export type ScimTextFold = ((text: Sql) => Sql) | undefined;

/** Probes once how `lower()` behaves on this server and picks a Unicode-aware fold. */
export async function probeTextFold(prisma: PrismaClient): Promise<ScimTextFold> {
  const [row] = await prisma.$queryRaw<Array<{ plain: boolean; builtin: boolean }>>(sql`
    SELECT lower(${'ÉSZ'}::text) = ${'ész'} AS plain,
           EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'pg_c_utf8') AS builtin`);
  if (row?.plain) return (text) => sql`lower(${text})`;
  // PostgreSQL 17+: the built-in C.UTF-8 collation does Unicode case mapping in any locale.
  if (row?.builtin) return (text) => sql`lower((${text}) COLLATE pg_c_utf8)`;
  return undefined;
}

/** A single value in SQL: its jsonb and its text form (NULL when absent). */
interface ValueRef {
  jsonb: Sql;
  text: Sql;
}

/** Where a filter path's values come from. */
type Target =
  | { kind: 'column'; column: ScimSqlColumn; definition: ScimAttribute }
  | { kind: 'single'; value: ValueRef; definition: ScimAttribute }
  | { kind: 'list'; list: Sql; sub: ScimAttribute | undefined; definition: ScimAttribute };

function literal(name: string): Sql {
  return raw(`'${name.replaceAll("'", "''")}'`);
}

function member(parent: Sql, name: string): ValueRef {
  return {
    jsonb: sql`(${parent} -> ${literal(name)})`,
    text: sql`(${parent} ->> ${literal(name)})`,
  };
}

/** `asList` in SQL: arrays as they are, an object as a list of one, anything else as none. */
function asList(jsonb: Sql): Sql {
  return sql`(CASE jsonb_typeof(${jsonb}) WHEN 'array' THEN ${jsonb}
    WHEN 'object' THEN jsonb_build_array(${jsonb}) ELSE '[]'::jsonb END)`;
}

function likePattern(value: string, op: string): string {
  const escaped = value.replace(/[\\%_]/g, (character) => `\\${character}`);
  if (op === 'sw') return `${escaped}%`;
  if (op === 'ew') return `%${escaped}`;
  return `%${escaped}%`;
}

const ORDER_SQL: Record<string, string> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

/** Translates SCIM filters and sorts for one table; undefined wherever SQL would differ. */
export function createScimSqlTranslator(table: ScimSqlTable, fold: ScimTextFold) {
  let aliases = 0;
  const rootJson = raw(table.resource);

  function rootTarget(resolved: ResolvedAttribute): Target | undefined {
    const { extension, attribute, subAttribute } = resolved;
    const path = subAttribute ? `${attribute.name}.${subAttribute.name}` : attribute.name;
    if (extension === undefined) {
      const column = table.columns[path];
      if (column) return { kind: 'column', column, definition: subAttribute ?? attribute };
      if (table.derived.includes(attribute.name)) return undefined;
    }
    const container = extension === undefined ? rootJson : member(rootJson, extension).jsonb;
    const value = member(container, attribute.name);
    if (attribute.multiValued)
      return { kind: 'list', list: value.jsonb, sub: subAttribute, definition: attribute };
    if (!subAttribute) return { kind: 'single', value, definition: attribute };
    return {
      kind: 'single',
      value: member(value.jsonb, subAttribute.name),
      definition: subAttribute,
    };
  }

  function elementTarget(element: Sql, parent: ScimAttribute, path: string): Target | undefined {
    const name = path.toLowerCase().startsWith(`${parent.name.toLowerCase()}.`)
      ? path.slice(parent.name.length + 1)
      : path;
    const definition = findAttribute(parent.subAttributes ?? [], name);
    if (!definition) return undefined;
    return { kind: 'single', value: member(element, definition.name), definition };
  }

  /** A complex value compared without a sub-attribute compares its `value`. */
  function implied(target: Target): Target | undefined {
    if (target.kind === 'list' && target.sub === undefined) {
      const value = findAttribute(target.definition.subAttributes ?? [], 'value');
      return value && { ...target, sub: value };
    }
    if (target.kind === 'single' && target.definition.type === 'complex') {
      const value = findAttribute(target.definition.subAttributes ?? [], 'value');
      return (
        value && {
          kind: 'single',
          value: member(target.value.jsonb, value.name),
          definition: value,
        }
      );
    }
    return target;
  }

  /** True when some value of the target passes `test` (two-valued: never NULL). */
  function some(
    target: Target,
    test: (value: ValueRef, definition: ScimAttribute) => Sql | undefined,
  ) {
    if (target.kind === 'column') return undefined;
    if (target.kind === 'single') {
      const condition = test(target.value, target.definition);
      return condition && sql`COALESCE(${condition}, false)`;
    }
    const alias = raw(`e${String((aliases += 1))}`);
    const element = sql`${alias}.v`;
    const value = target.sub
      ? member(element, target.sub.name)
      : { jsonb: element, text: sql`(${element} #>> '{}')` };
    const condition = test(value, target.sub ?? target.definition);
    return (
      condition &&
      sql`EXISTS (SELECT 1 FROM jsonb_array_elements(${asList(target.list)}) AS ${alias}(v) WHERE ${condition})`
    );
  }

  function textTest(value: ValueRef, definition: ScimAttribute, filter: Compare): Sql | undefined {
    if (typeof filter.compValue !== 'string') return undefined;
    const expected = definition.caseExact ? filter.compValue : filter.compValue.toLowerCase();
    if (!definition.caseExact && !fold) return undefined;
    const actual = definition.caseExact || !fold ? value.text : fold(value.text);
    return compareText(actual, expected, filter.op);
  }

  function compareText(actual: Sql, expected: string, op: string): Sql | undefined {
    if (op === 'eq') return sql`${actual} = ${expected}`;
    if (op === 'co' || op === 'sw' || op === 'ew')
      return sql`(${actual}) COLLATE "C" LIKE ${likePattern(expected, op)}`;
    const operator = ORDER_SQL[op];
    return operator === undefined
      ? undefined
      : sql`(${actual}) COLLATE "C" ${raw(operator)} ${expected}`;
  }

  function booleanOf(value: Compare['compValue']): boolean | undefined {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value))
      return value.toLowerCase() === 'true';
    return undefined;
  }

  /** One value against the comparison (`ne` is handled as NOT `eq` by the caller). */
  function valueTest(filter: Compare) {
    return (value: ValueRef, definition: ScimAttribute): Sql | undefined => {
      if (filter.compValue === null) return sql`false`;
      switch (definition.type) {
        case 'string':
        case 'reference':
        case 'binary':
          return textTest(value, definition, filter);
        case 'boolean': {
          const expected = booleanOf(filter.compValue);
          if (filter.op !== 'eq' || expected === undefined) return undefined;
          return sql`${value.jsonb} = to_jsonb(${expected}::boolean)`;
        }
        default:
          // No dateTime or number is stored in the resource JSON today: leave them to memory.
          return undefined;
      }
    };
  }

  function columnComparison(column: ScimSqlColumn, definition: ScimAttribute, filter: Compare) {
    const { compValue, op } = filter;
    if (compValue === null) return sql`false`;
    switch (column.kind) {
      case 'text':
        return columnText(column, definition, filter);
      case 'uuid':
        return columnUuid(column.sql, definition, filter);
      case 'boolean': {
        const expected = booleanOf(compValue);
        return op === 'eq' && expected !== undefined
          ? sql`${raw(column.sql)} = ${expected}`
          : undefined;
      }
      case 'instant':
        return instantComparison(raw(column.sql), compValue, op);
    }
  }

  function columnUuid(column: string, definition: ScimAttribute, filter: Compare) {
    const { compValue, op } = filter;
    // A canonical id compares as a uuid, so the primary key serves it.
    if (
      op === 'eq' &&
      typeof compValue === 'string' &&
      isUuid(compValue) &&
      compValue === compValue.toLowerCase()
    )
      return sql`${raw(column)} = ${compValue}::uuid`;
    return textTest({ jsonb: sql`NULL`, text: sql`${raw(column)}::text` }, definition, filter);
  }

  function columnText(
    column: ScimSqlColumn & { kind: 'text' },
    definition: ScimAttribute,
    filter: Compare,
  ) {
    if (typeof filter.compValue !== 'string') return undefined;
    if (definition.caseExact || column.folded === undefined)
      return textTest({ jsonb: sql`NULL`, text: raw(column.sql) }, definition, filter);
    return compareText(raw(column.folded), filter.compValue.toLowerCase(), filter.op);
  }

  /**
   * Compares a timestamptz column as the evaluator compares served values: at millisecond
   * precision (the column may hold microseconds), written as ranges so an index can serve it.
   */
  function instantComparison(column: Sql, compValue: Compare['compValue'], op: string) {
    const time = typeof compValue === 'string' ? Date.parse(compValue) : Number.NaN;
    if (Number.isNaN(time)) return undefined;
    const at = new Date(time).toISOString();
    const after = new Date(time + 1).toISOString();
    const ranges: Record<string, Sql> = {
      eq: sql`(${column} >= ${at}::timestamptz AND ${column} < ${after}::timestamptz)`,
      gt: sql`${column} >= ${after}::timestamptz`,
      ge: sql`${column} >= ${at}::timestamptz`,
      lt: sql`${column} < ${at}::timestamptz`,
      le: sql`${column} < ${after}::timestamptz`,
    };
    return ranges[op];
  }

  function comparison(filter: Compare, resolve: (path: string) => Target | undefined) {
    const found = resolve(filter.attrPath);
    const target = found && implied(found);
    if (!target) return undefined;
    const positive = { ...filter, op: filter.op === 'ne' ? 'eq' : filter.op } as Compare;
    const matched =
      target.kind === 'column'
        ? columnComparison(target.column, target.definition, positive)
        : some(target, valueTest(positive));
    if (!matched) return undefined;
    const twoValued = target.kind === 'column' ? sql`COALESCE(${matched}, false)` : matched;
    return filter.op === 'ne' ? sql`NOT ${twoValued}` : twoValued;
  }

  function present(value: ValueRef, definition: ScimAttribute): Sql {
    if (definition.type !== 'complex') return sql`${value.text} <> ''`;
    // A complex value is present when one of its sub-attributes is (RFC 7644 §3.4.2.2).
    return sql`EXISTS (SELECT 1 FROM jsonb_each_text(CASE jsonb_typeof(${value.jsonb})
      WHEN 'object' THEN ${value.jsonb} ELSE '{}'::jsonb END) AS p(k, t) WHERE p.t <> '')`;
  }

  function presence(path: string, resolve: (path: string) => Target | undefined) {
    const target = resolve(path);
    if (!target) return undefined;
    if (target.kind !== 'column') return some(target, present);
    const column = raw(target.column.sql);
    return target.column.kind === 'text'
      ? sql`COALESCE(${column} <> '', false)`
      : sql`(${column} IS NOT NULL)`;
  }

  function valuePath(filter: ValuePath, resolve: (path: string) => Target | undefined) {
    const target = resolve(filter.attrPath);
    if (!target || target.kind === 'column' || target.definition.type !== 'complex')
      return undefined;
    const parent = target.definition;
    const alias = raw(`e${String((aliases += 1))}`);
    const element = sql`${alias}.v`;
    const inner = translate(filter.valFilter, (path) => elementTarget(element, parent, path));
    if (!inner) return undefined;
    const list = target.kind === 'list' ? target.list : target.value.jsonb;
    return sql`EXISTS (SELECT 1 FROM jsonb_array_elements(${asList(list)}) AS ${alias}(v) WHERE ${inner})`;
  }

  function all(parts: Filter[], resolve: (path: string) => Target | undefined): Sql[] | undefined {
    const translated = parts.map((part) => translate(part, resolve));
    return translated.every((part) => part !== undefined) ? translated : undefined;
  }

  function translate(
    filter: Filter,
    resolve: (path: string) => Target | undefined,
  ): Sql | undefined {
    switch (filter.op) {
      case 'and':
      case 'or': {
        const parts = all(filter.filters, resolve);
        return parts && sql`(${join(parts, filter.op === 'and' ? ' AND ' : ' OR ')})`;
      }
      case 'not': {
        const inner = translate(filter.filter, resolve);
        return inner && sql`NOT (${inner})`;
      }
      case '[]':
        return valuePath(filter, resolve);
      case 'pr':
        return presence(filter.attrPath, resolve);
      default:
        return comparison(filter, resolve);
    }
  }

  function resolveRoot(path: string): Target | undefined {
    const resolved = resolveAttributePath(table.resourceType, path);
    return resolved && rootTarget(resolved);
  }

  function sortExpression(resolved: ResolvedAttribute): Sql | undefined {
    const target = rootTarget(resolved);
    if (!target || target.kind === 'list') return undefined;
    const { definition } = target;
    if (target.kind === 'column') return columnSort(target.column, definition);
    if (!['string', 'reference'].includes(definition.type)) return undefined;
    if (definition.caseExact) return sql`${target.value.text} COLLATE "C"`;
    return fold && sql`(${fold(target.value.text)}) COLLATE "C"`;
  }

  function columnSort(column: ScimSqlColumn, definition: ScimAttribute): Sql {
    const name = raw(column.sql);
    switch (column.kind) {
      case 'text':
        if (!definition.caseExact && column.folded !== undefined)
          return sql`${raw(column.folded)} COLLATE "C"`;
        return sql`${name} COLLATE "C"`;
      case 'uuid':
        return sql`${name}::text COLLATE "C"`;
      case 'boolean':
        return name;
      case 'instant':
        return sql`date_trunc('milliseconds', ${name})`;
    }
  }

  return {
    /** The WHERE condition for the whole filter, or undefined when any part is not exact in SQL. */
    where(filter: Filter): Sql | undefined {
      return translate(filter, resolveRoot);
    },
    /**
     * The ORDER BY key for `sortBy` (values missing last when ascending, first when
     * descending, as the in-memory sort does), or undefined.
     */
    orderBy(sortBy: ResolvedAttribute, sortOrder: 'ascending' | 'descending'): Sql | undefined {
      const key = sortExpression(sortBy);
      if (!key) return undefined;
      return sortOrder === 'ascending' ? sql`${key} ASC NULLS LAST` : sql`${key} DESC NULLS FIRST`;
    },
  };
}

export type ScimSqlTranslator = ReturnType<typeof createScimSqlTranslator>;
