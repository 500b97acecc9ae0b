import { parse, type Compare, type Filter, type ValuePath } from 'scim2-parse-filter';
import {
  asList,
  isJsonObject,
  resolveAttributePath,
  type JsonObject,
} from './scim-attribute-path.ts';
import { badRequest } from './scim-error.ts';
import { findAttribute, type ScimAttribute, type ScimResourceType } from './scim-schemas.ts';

/** A compiled filter: true when the resource (or multi-valued element) matches. */
export type ScimPredicate = (resource: JsonObject) => boolean;

/** How a filter path is resolved: at the resource root or inside a complex value. */
interface FilterScope {
  resolve(path: string): { definition: ScimAttribute; values: (item: JsonObject) => unknown[] };
}

function unknownAttribute(path: string): never {
  throw badRequest('invalidFilter', `The filter names an unknown attribute "${path}".`);
}

/** A complex attribute compared without a sub-attribute compares its `value` (RFC 7644 §3.4.2.2). */
function impliedValue(definition: ScimAttribute, path: string): ScimAttribute {
  if (definition.type !== 'complex') return definition;
  const value = findAttribute(definition.subAttributes ?? [], 'value');
  return value ?? unknownAttribute(`${path}.value`);
}

function rootScope(resourceType: ScimResourceType): FilterScope {
  return {
    resolve(path) {
      const resolved = resolveAttributePath(resourceType, path) ?? unknownAttribute(path);
      const { extension, attribute, subAttribute } = resolved;
      return {
        definition: subAttribute ?? attribute,
        values: (item) => {
          const container = extension === undefined ? item : item[extension];
          if (!isJsonObject(container)) return [];
          const values = asList(container[attribute.name]);
          const sub = subAttribute?.name;
          if (sub === undefined) return values;
          return values.flatMap((value) => (isJsonObject(value) ? asList(value[sub]) : []));
        },
      };
    },
  };
}

function subScope(parent: ScimAttribute, parentPath: string): FilterScope {
  return {
    resolve(path) {
      const name = path.toLowerCase().startsWith(`${parent.name.toLowerCase()}.`)
        ? path.slice(parent.name.length + 1)
        : path;
      const definition =
        findAttribute(parent.subAttributes ?? [], name) ??
        unknownAttribute(`${parentPath}.${path}`);
      return { definition, values: (item) => asList(item[definition.name]) };
    },
  };
}

function instant(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

type Ordering = (actual: unknown) => number | undefined;

/** Orders a value against the filter's value, in the attribute's type; undefined: not comparable. */
function ordering(definition: ScimAttribute, compValue: Compare['compValue']): Ordering {
  switch (definition.type) {
    case 'dateTime': {
      const expected =
        instant(compValue) ?? invalidValue(definition, compValue, 'a dateTime string');
      return (actual) => {
        const time = instant(actual);
        return time === undefined ? undefined : Math.sign(time - expected);
      };
    }
    case 'integer':
    case 'decimal': {
      const expected =
        typeof compValue === 'number' ? compValue : invalidValue(definition, compValue, 'a number');
      return (actual) => (typeof actual === 'number' ? Math.sign(actual - expected) : undefined);
    }
    case 'boolean': {
      const expected = booleanOf(compValue) ?? invalidValue(definition, compValue, 'true or false');
      return (actual) => (booleanOf(actual) === expected ? 0 : 1);
    }
    default: {
      const fold = foldFor(definition);
      const expected =
        typeof compValue === 'string'
          ? fold(compValue)
          : invalidValue(definition, compValue, 'a string');
      return (actual) =>
        typeof actual === 'string' ? compareText(fold(actual), expected) : undefined;
    }
  }
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function foldFor(definition: ScimAttribute): (value: string) => string {
  return definition.caseExact ? (value) => value : (value) => value.toLowerCase();
}

function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value))
    return value.toLowerCase() === 'true';
  return undefined;
}

function invalidValue(definition: ScimAttribute, compValue: unknown, expected: string): never {
  throw badRequest(
    'invalidFilter',
    `"${definition.name}" is compared with ${JSON.stringify(compValue)}; expected ${expected}.`,
  );
}

const STRING_OPERATORS = new Set(['co', 'sw', 'ew']);
const ORDER_OPERATORS = new Set(['gt', 'ge', 'lt', 'le']);

/** The test one operator applies to a single value. */
function valueTest(definition: ScimAttribute, filter: Compare): (actual: unknown) => boolean {
  const { op, compValue } = filter;
  if (compValue === null) {
    if (op !== 'eq' && op !== 'ne') invalidValue(definition, compValue, 'a value');
    return () => false;
  }
  if (STRING_OPERATORS.has(op)) {
    if (!['string', 'reference'].includes(definition.type) || typeof compValue !== 'string')
      throw badRequest(
        'invalidFilter',
        `"${op}" applies to strings; "${definition.name}" is ${definition.type}.`,
      );
    const fold = foldFor(definition);
    const expected = fold(compValue);
    const test =
      op === 'co'
        ? (text: string) => text.includes(expected)
        : op === 'sw'
          ? (text: string) => text.startsWith(expected)
          : (text: string) => text.endsWith(expected);
    return (actual) => typeof actual === 'string' && test(fold(actual));
  }
  if (ORDER_OPERATORS.has(op) && ['boolean', 'binary'].includes(definition.type))
    throw badRequest(
      'invalidFilter',
      `"${op}" does not apply to ${definition.type} "${definition.name}".`,
    );
  const order = ordering(definition, compValue);
  const accepts: Record<string, (sign: number) => boolean> = {
    eq: (sign) => sign === 0,
    ne: (sign) => sign === 0,
    gt: (sign) => sign > 0,
    ge: (sign) => sign >= 0,
    lt: (sign) => sign < 0,
    le: (sign) => sign <= 0,
  };
  const accept = accepts[op] ?? ((): boolean => false);
  return (actual) => {
    const sign = order(actual);
    return sign !== undefined && accept(sign);
  };
}

function isPresent(value: unknown): boolean {
  if (value === '') return false;
  if (isJsonObject(value)) return Object.values(value).some(isPresent);
  return value !== undefined && value !== null;
}

function compile(filter: Filter, scope: FilterScope): ScimPredicate {
  switch (filter.op) {
    case 'and': {
      const parts = filter.filters.map((part) => compile(part, scope));
      return (item) => parts.every((part) => part(item));
    }
    case 'or': {
      const parts = filter.filters.map((part) => compile(part, scope));
      return (item) => parts.some((part) => part(item));
    }
    case 'not': {
      const inner = compile(filter.filter, scope);
      return (item) => !inner(item);
    }
    case '[]':
      return compileValuePath(filter, scope);
    case 'pr': {
      const { values } = scope.resolve(filter.attrPath);
      return (item) => values(item).some(isPresent);
    }
    default:
      return compileComparison(filter, scope);
  }
}

function compileComparison(filter: Compare, scope: FilterScope): ScimPredicate {
  const { definition, values } = scope.resolve(filter.attrPath);
  const compared = impliedValue(definition, filter.attrPath);
  const valueTestOf = valueTest(compared, filter);
  // `emails eq "x"` compares each email's `value`.
  const test =
    compared === definition
      ? valueTestOf
      : (actual: unknown) => isJsonObject(actual) && valueTestOf(actual[compared.name]);
  // `ne` is the negation of `eq`: it matches resources where no value equals (RFC 7644 §3.4.2.2).
  if (filter.op === 'ne') return (item) => !values(item).some(test);
  return (item) => values(item).some(test);
}

function compileValuePath(filter: ValuePath, scope: FilterScope): ScimPredicate {
  const { definition, values } = scope.resolve(filter.attrPath);
  if (definition.type !== 'complex')
    throw badRequest('invalidFilter', `"${filter.attrPath}" is not a complex attribute.`);
  const inner = compile(filter.valFilter, subScope(definition, filter.attrPath));
  return (item) => values(item).some((value) => isJsonObject(value) && inner(value));
}

/** Parses SCIM filter text; a syntax error is a 400 `invalidFilter`. */
export function parseFilter(text: string): Filter {
  try {
    return parse(text);
  } catch (error) {
    throw badRequest(
      'invalidFilter',
      `The filter is not valid: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Compiles a filter for a resource type with SCIM semantics: caseExact=false attributes
 * compare case-insensitively, dateTimes as instants, numbers as numbers, unknown
 * attributes and ill-typed comparisons are 400 `invalidFilter`.
 */
export function compileFilter(filter: Filter, resourceType: ScimResourceType): ScimPredicate {
  return compile(filter, rootScope(resourceType));
}

/** Compiles a filter relative to the sub-attributes of the complex attribute `parent`. */
export function compileValueFilter(filter: Filter, parent: ScimAttribute): ScimPredicate {
  return compile(filter, subScope(parent, parent.name));
}

/**
 * Equalities that every match must satisfy (top-level `eq` and `and` of `eq`s), keyed by the
 * lower-cased attribute path: lets a repository narrow candidates with an index first.
 */
export function requiredEqualities(filter: Filter): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (node: Filter): void => {
    if (node.op === 'and') node.filters.forEach(visit);
    const compare = node as Compare;
    if (compare.op === 'eq' && typeof compare.compValue === 'string')
      found.set(compare.attrPath.toLowerCase(), compare.compValue);
  };
  visit(filter);
  return found;
}
