import parseSpdx from 'spdx-expression-parse';
import { LicenseError } from './license-error.ts';

const { createRequire } = process.getBuiltinModule('node:module');
const require = createRequire(import.meta.url);

/** One licence of an expression, with its `+` and its `WITH` exception carried along. */
export interface LicenseTerm {
  /** The SPDX identifier in its canonical case, or a `LicenseRef-…`/`DocumentRef-…:LicenseRef-…`. */
  license: string;
  /** `GPL-2.0+`: this version or any later one. */
  orLater: boolean;
  exception?: string;
}

export interface LicenseConjunction {
  conjunction: 'AND' | 'OR';
  left: LicenseNode;
  right: LicenseNode;
}

export type LicenseNode = LicenseTerm | LicenseConjunction;

/**
 * A valid licence statement. `NONE` (the author states there is no licence) and
 * `NOASSERTION` (nobody has said) are the two SPDX values that are not expressions.
 */
export type ParsedLicense =
  | {
      kind: 'expression';
      /** The expression rebuilt with canonical identifiers and explicit parentheses. */
      expression: string;
      tree: LicenseNode;
      /** Every licence named, each once, in order of appearance. */
      licenses: string[];
      exceptions: string[];
    }
  | { kind: 'none'; expression: 'NONE' }
  | { kind: 'noassertion'; expression: 'NOASSERTION' };

export type LicenseParseResult =
  { ok: true; license: ParsedLicense } | { ok: false; error: LicenseError };

function loadIdentifiers(specifier: string): string[] {
  const loaded: unknown = require(specifier);
  return Array.isArray(loaded)
    ? loaded.filter((item): item is string => typeof item === 'string')
    : [];
}

/** Current and deprecated SPDX licence identifiers, by lower case (identifiers are case-insensitive). */
const CANONICAL_IDS = new Map(
  [...loadIdentifiers('spdx-license-ids'), ...loadIdentifiers('spdx-license-ids/deprecated')].map(
    (id) => [id.toLowerCase(), id],
  ),
);

/** The identifier in its canonical case, when SPDX lists it. */
export function canonicalLicenseId(id: string): string | undefined {
  return CANONICAL_IDS.get(id.toLowerCase());
}

const OPERATORS = new Set(['AND', 'OR', 'WITH']);
const WORD = /[A-Za-z0-9][A-Za-z0-9.\-:]*\+?/g;

/**
 * Validates an SPDX licence expression (`MIT`, `Apache-2.0 OR MIT`,
 * `GPL-2.0-or-later WITH Classpath-exception-2.0`, `LicenseRef-acme-eula`…). Identifiers
 * are matched case-insensitively and returned in their canonical case; operators must be
 * upper case. Throws a `LicenseError` with code `invalid_license` whose message names what
 * is wrong; `tryParseLicense` returns it instead.
 */
export function parseLicense(expression: string): ParsedLicense {
  const result = tryParseLicense(expression);
  if (!result.ok) throw result.error;
  return result.license;
}

/** `parseLicense` without throwing: the licence, or the `LicenseError`. */
export function tryParseLicense(expression: string): LicenseParseResult {
  const trimmed = expression.trim();
  if (trimmed === 'NONE' || trimmed === 'NOASSERTION') {
    return {
      ok: true,
      license:
        trimmed === 'NONE'
          ? { kind: 'none', expression: 'NONE' }
          : { kind: 'noassertion', expression: 'NOASSERTION' },
    };
  }
  if (trimmed === '') return invalid(expression, 'the expression is empty');
  const canonical = canonicaliseIdentifiers(trimmed);
  if (!canonical.ok) return invalid(expression, canonical.problem);
  try {
    const tree = toNode(parseSpdx(canonical.text));
    return {
      ok: true,
      license: { kind: 'expression', expression: render(tree, true), tree, ...collect(tree) },
    };
  } catch (error) {
    return invalid(expression, parserProblem(error));
  }
}

// The parser's own messages (`Unexpected \`B\` at offset 9`, `Expected exception after
// \`WITH\``) name the spot; anything else comes from running off the end of the input.
function parserProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  return /^(?:Unexpected|Expected)/.test(message)
    ? message.charAt(0).toLowerCase() + message.slice(1)
    : 'it ends where a licence or a closing parenthesis is expected';
}

function invalid(expression: string, problem: string): LicenseParseResult {
  return {
    ok: false,
    error: new LicenseError(
      'invalid_license',
      `"${expression}" is not a valid SPDX licence expression: ${problem}`,
      {
        expression,
      },
    ),
  };
}

function canonicaliseIdentifiers(
  text: string,
): { ok: true; text: string } | { ok: false; problem: string } {
  let problem: string | undefined;
  let previous = '';
  const replaced = text.replace(WORD, (word) => {
    const after = previous;
    previous = word;
    if (OPERATORS.has(word) || after === 'WITH' || /^(?:LicenseRef-|DocumentRef-)/.test(word))
      return word;
    const plus = word.endsWith('+') ? '+' : '';
    const id = canonicalLicenseId(plus ? word.slice(0, -1) : word);
    if (id) return id + plus;
    problem ??= OPERATORS.has(word.toUpperCase())
      ? `the operator "${word}" must be written in upper case`
      : `"${word}" is not an SPDX licence identifier (use LicenseRef-… for others)`;
    return word;
  });
  return problem === undefined ? { ok: true, text: replaced } : { ok: false, problem };
}

function toNode(info: parseSpdx.Info): LicenseNode {
  if ('conjunction' in info) {
    return {
      conjunction: info.conjunction === 'and' ? 'AND' : 'OR',
      left: toNode(info.left),
      right: toNode(info.right),
    };
  }
  const term: LicenseTerm = { license: info.license, orLater: info.plus === true };
  if (info.exception !== undefined) term.exception = info.exception;
  return term;
}

/** The expression of a node; nested conjunctions get parentheses. */
export function render(node: LicenseNode, top = false): string {
  if (!('conjunction' in node)) {
    return `${node.license}${node.orLater ? '+' : ''}${node.exception ? ` WITH ${node.exception}` : ''}`;
  }
  const text = `${render(node.left)} ${node.conjunction} ${render(node.right)}`;
  return top ? text : `(${text})`;
}

function collect(tree: LicenseNode): { licenses: string[]; exceptions: string[] } {
  const licenses = new Set<string>();
  const exceptions = new Set<string>();
  const visit = (node: LicenseNode): void => {
    if ('conjunction' in node) {
      visit(node.left);
      visit(node.right);
      return;
    }
    licenses.add(node.license);
    if (node.exception) exceptions.add(node.exception);
  };
  visit(tree);
  return { licenses: [...licenses], exceptions: [...exceptions] };
}
