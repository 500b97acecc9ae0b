/**
 * Reads a Milvus boolean expression's double-quoted string literals the way Milvus does: the
 * lexer rule of its grammar (`Plan.g4`: a literal holds any character but `"`, `\`, CR and LF,
 * or a backslash escape) finds where each literal ends, and Go's `strconv.Unquote` escapes give
 * its value. Written from those rules, independently of the code under test, so a test can check
 * that a value went into an expression as one literal holding exactly that value.
 */
export interface LexedExpression {
  /** The expression with every string literal replaced by `$` (operators, fields, numbers). */
  skeleton: string;
  /** The decoded value of each string literal, in order. */
  literals: string[];
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\u0007',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};
const HEX_ESCAPE_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

/** Decodes the escape at `text[at]` (just after the backslash): its value and its length. */
function readEscape(text: string, at: number): { value: string; length: number } {
  const letter = text.charAt(at);
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) return { value: simple, length: 1 };
  const hexLength = HEX_ESCAPE_LENGTH[letter];
  if (hexLength !== undefined) {
    const hex = text.slice(at + 1, at + 1 + hexLength);
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength) {
      throw new SyntaxError(`bad \\${letter} escape at ${at}`);
    }
    return { value: String.fromCodePoint(parseInt(hex, 16)), length: 1 + hexLength };
  }
  const octal = /^[0-7]{3}/.exec(text.slice(at));
  if (octal) return { value: String.fromCharCode(parseInt(octal[0], 8)), length: 3 };
  throw new SyntaxError(`unknown escape \\${letter} at ${at}`);
}

/** Reads the literal opening at `text[start]` (a `"`): its value and where it ends. */
function readLiteral(text: string, start: number): { value: string; end: number } {
  let value = '';
  let at = start + 1;
  for (;;) {
    const char = text.charAt(at);
    if (at >= text.length || char === '\n' || char === '\r') {
      throw new SyntaxError(`unterminated string literal from ${start}`);
    }
    if (char === '"') return { value, end: at + 1 };
    if (char === '\\') {
      const escape = readEscape(text, at + 1);
      value += escape.value;
      at += 1 + escape.length;
    } else {
      value += char;
      at += 1;
    }
  }
}

export function lexMilvusExpression(expression: string): LexedExpression {
  const literals: string[] = [];
  let skeleton = '';
  let at = 0;
  while (at < expression.length) {
    const char = expression.charAt(at);
    if (char === "'") throw new SyntaxError(`single-quoted literal at ${at}`);
    if (char !== '"') {
      skeleton += char;
      at += 1;
      continue;
    }
    const literal = readLiteral(expression, at);
    literals.push(literal.value);
    skeleton += '$';
    at = literal.end;
  }
  return { skeleton, literals };
}
