import {
  redactionPlaceholder,
  redactText,
  type RedactionOptions,
  type RedactionReport,
} from '../dlp/redact-text.ts';
import type { Block, ParsedDocument } from '../parsing/parsed-document.ts';

/**
 * The parsed document with its text (and title) redacted and every block's span moved to
 * where its text now is, so chunks — and the citations they give — point into the redacted
 * text. A placeholder has another length than what it replaces: an offset after a finding
 * moves by the difference; an offset inside one (a credential running over two blocks) moves
 * to the placeholder's start or end.
 */
export function redactParsedDocument(
  parsed: ParsedDocument,
  options: RedactionOptions = {},
): { parsed: ParsedDocument; report: RedactionReport } {
  const { text, report } = redactText(parsed.text, options);
  const title = parsed.title === undefined ? undefined : redactText(parsed.title, options).text;
  const withTitle = title === undefined ? {} : { title };
  if (report.findings.length === 0) return { parsed: { ...parsed, ...withTitle }, report };
  const moved: Array<{ start: number; end: number; newStart: number; newEnd: number }> = [];
  let shift = 0;
  for (const finding of report.findings) {
    const placeholder = options.placeholders?.[finding.type] ?? redactionPlaceholder(finding.type);
    const newStart = finding.start + shift;
    moved.push({
      start: finding.start,
      end: finding.end,
      newStart,
      newEnd: newStart + placeholder.length,
    });
    shift += placeholder.length - (finding.end - finding.start);
  }
  const map = (offset: number, side: 'start' | 'end'): number => {
    let delta = 0;
    for (const span of moved) {
      if (offset >= span.end) {
        delta = span.newEnd - span.end;
        continue;
      }
      if (offset > span.start) return side === 'start' ? span.newStart : span.newEnd;
      break;
    }
    return offset + delta;
  };
  const blocks = parsed.blocks.map((block): Block => ({
    ...block,
    start: map(block.start, 'start'),
    end: map(block.end, 'end'),
  }));
  return { parsed: { ...parsed, text, blocks, ...withTitle }, report };
}
