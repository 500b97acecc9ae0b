/** A half-open range of a document's text: `text.slice(start, end)`. */
export interface Span {
  start: number;
  end: number;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/** The sentences of `text.slice(start, end)`, each trimmed of surrounding whitespace. */
export function sentenceSpans(text: string, start: number, end: number): Span[] {
  const spans: Span[] = [];
  for (const sentence of sentenceSegmenter.segment(text.slice(start, end))) {
    const span = trimSpan(
      text,
      start + sentence.index,
      start + sentence.index + sentence.segment.length,
    );
    if (span) spans.push(span);
  }
  return spans;
}

/** The lines of `text.slice(start, end)` that are not blank, without trailing whitespace. */
export function lineSpans(text: string, start: number, end: number): Span[] {
  const spans: Span[] = [];
  let lineStart = start;
  while (lineStart < end) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 || newline > end ? end : newline;
    const line = text.slice(lineStart, lineEnd);
    if (line.trim() !== '')
      spans.push({ start: lineStart, end: lineStart + line.trimEnd().length });
    lineStart = lineEnd + 1;
  }
  return spans;
}

/** The whitespace-separated words of `text.slice(start, end)`. */
export function wordSpans(text: string, start: number, end: number): Span[] {
  const spans: Span[] = [];
  for (const match of text.slice(start, end).matchAll(/\S+/g)) {
    spans.push({ start: start + match.index, end: start + match.index + match[0].length });
  }
  return spans;
}

/** The span without leading and trailing whitespace, or undefined when it is blank. */
export function trimSpan(text: string, start: number, end: number): Span | undefined {
  let from = start;
  let to = end;
  while (from < to && /\s/.test(text.charAt(from))) from += 1;
  while (to > from && /\s/.test(text.charAt(to - 1))) to -= 1;
  return from < to ? { start: from, end: to } : undefined;
}

/** Moves a cut off the middle of a surrogate pair, so no chunk holds half a character. */
export function safeCut(text: string, position: number): number {
  const code = text.charCodeAt(position);
  return code >= 0xdc00 && code <= 0xdfff ? position - 1 : position;
}
