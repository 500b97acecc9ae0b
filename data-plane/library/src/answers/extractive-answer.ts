/** A hit as the answer composer reads it: the chunk's text and where it lies in its version. */
export interface AnswerSource {
  chunkId: string;
  text: string;
  citation: { documentId: string; version: number; title: string; start: number; end: number };
}

/** One cited sentence: `[n]` in the answer, and the exact span of the stored version it is. */
export interface AnswerCitation {
  marker: number;
  documentId: string;
  version: number;
  title: string;
  chunkId: string;
  start: number;
  end: number;
  text: string;
}

const STOP_WORDS = new Set(
  'a an and are as at be but by for from has have how i in is it its of on or that the their this to was were what when where which who why will with you your does do did can'.split(
    ' ',
  ),
);

function terms(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFKC')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  ).filter((term) => term.length > 1 && !STOP_WORDS.has(term));
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * The offline answer: the sentences of the retrieved passages that share the most terms
 * with the question (ties to the better-ranked passage), in passage order, each followed by
 * its citation marker. Every citation is an exact span of a stored version:
 * `version.text.slice(start, end) === text`. No passage shares a term: no answer.
 */
export function composeExtractiveAnswer(
  question: string,
  sources: readonly AnswerSource[],
  options: { sentences: number },
): { answer: string | null; citations: AnswerCitation[] } {
  const wanted = new Set(terms(question));
  const candidates: Array<AnswerCitation & { score: number; order: number }> = [];
  sources.forEach((source, rank) => {
    for (const segment of segmenter.segment(source.text)) {
      const raw = segment.segment;
      const leading = raw.length - raw.trimStart().length;
      const sentence = raw.trim();
      if (sentence.length < 3) continue;
      const overlap = new Set(terms(sentence).filter((term) => wanted.has(term))).size;
      if (overlap === 0) continue;
      const start = source.citation.start + segment.index + leading;
      candidates.push({
        marker: 0,
        documentId: source.citation.documentId,
        version: source.citation.version,
        title: source.citation.title,
        chunkId: source.chunkId,
        start,
        end: start + sentence.length,
        text: sentence,
        // More shared terms first; a better-ranked passage breaks ties.
        score: overlap - rank / (sources.length + 1),
        order: rank * 1e6 + segment.index,
      });
    }
  });
  const seen = new Set<string>();
  const chosen = candidates
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .filter((candidate) => {
      const key = candidate.text.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, options.sentences)
    .sort((a, b) => a.order - b.order);
  if (chosen.length === 0) return { answer: null, citations: [] };
  const citations = chosen.map(({ score: _score, order: _order, ...citation }, index) => ({
    ...citation,
    marker: index + 1,
  }));
  const answer = citations.map((citation) => `${citation.text} [${citation.marker}]`).join(' ');
  return { answer, citations };
}
