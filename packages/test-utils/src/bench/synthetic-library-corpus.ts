/**
 * A deterministic synthetic corpus for the library bench: Markdown documents (a title,
 * sections with headings, paragraphs and lists) written from a vocabulary of ~5,000 English
 * words of business and technical documentation (base words, their inflections, prefixed
 * rare forms) drawn with a Zipf distribution, mixed with function words (which full-text
 * search drops as stop words). Each document leans on a topic of its own (a few dozen
 * mid-frequency words drawn more often), so full-text and vector rankings have something to
 * tell apart. Every document and query is a pure function of the seed and its index: the same
 * corpus on every machine and at any ingest concurrency.
 */

/** A document ready for `library.ingest`. */
export interface SyntheticDocument {
  title: string;
  content: string;
  mediaType: 'text/markdown';
  license: string;
  source: string;
  author: string;
  tags: string[];
  classification: 'public' | 'internal' | 'confidential' | 'restricted';
}

/** A search query of the bench: a few frequent-to-rare words, or a phrase from a document. */
export interface SyntheticQuery {
  q: string;
  kind: 'short' | 'long';
}

export interface SyntheticLibraryCorpus {
  /** The tags documents carry, most frequent first (the last ones are rare: selective filters). */
  readonly tags: readonly string[];
  /** Document `index` (0-based); `revision` > 0 rewrites some of its paragraphs. */
  document(index: number, revision?: number): SyntheticDocument;
  /**
   * `count` queries: half are 1–2 words drawn as the corpus draws them, half 5–8
   * consecutive words of a paragraph of one of the first `documents` documents, in the
   * revision `revisionOf(index)` (default 0) of that document.
   */
  queries(
    count: number,
    documents: number,
    revisionOf?: (index: number) => number,
  ): SyntheticQuery[];
}

export interface SyntheticLibraryCorpusOptions {
  seed: number;
  /** Distinct content words (default 5,000). */
  vocabulary?: number;
}

/** mulberry32: a small, fast, seedable generator of floats in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed of one document, or one query: the corpus seed mixed with the index. */
const derivedSeed = (seed: number, salt: number, index: number) =>
  (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ salt) >>> 0;

const FUNCTION_WORDS = (
  'the of and to a in is that for it as with was on be by this are or from at which an not ' +
  'but can its has have were their all more when also other into than these may only such ' +
  'some most each would there how between both where after about over under while should'
).split(' ');
/** Nouns of business and technical documentation (plurals are derived). */
const NOUNS = (
  'access account action address agent alert amount analysis answer approach archive ' +
  'area argument array asset audit author backup balance bank base batch behavior ' +
  'benefit billing block board body book branch bridge budget buffer bug build bundle ' +
  'business button cache call campaign capacity card case catalog category cause center ' +
  'certificate chain change channel chapter charge chart check choice claim class client ' +
  'cluster code column command comment commit company component condition config ' +
  'connection consent constraint contact container content context contract control copy ' +
  'cost count country course coverage credit customer cycle dashboard data database date ' +
  'deadline debt decision default delay delivery demand deployment design detail device ' +
  'difference directory disk display document domain draft driver duration effect effort ' +
  'element email employee endpoint engine entry environment error estimate event ' +
  'evidence example exception expense experience export factor failure feature fee field ' +
  'figure file filter finding firewall flag flow folder forecast form format framework ' +
  'function fund gateway goal grant graph group guide handler hardware header health ' +
  'history host hour idea identity image impact import incident income index input ' +
  'insight instance insurance interest interface invoice issue item job journal key ' +
  'label language layer layout lead ledger level library license limit line link list ' +
  'load loan location lock log loss machine mail manager map margin market match measure ' +
  'member memory menu message method metric migration minute mode model module monitor ' +
  'month network node note notice number object offer office operation option order ' +
  'output owner package page panel parameter partner password patch path payment peer ' +
  'period permission person phase plan platform point policy pool port portal position ' +
  'post practice price priority problem process product profile program project property ' +
  'protocol provider proxy purchase quality query question queue quota range rate reason ' +
  'record region registry release report request requirement resource response result ' +
  'review revision risk role route rule runtime sale sample schedule schema scope score ' +
  'screen script search season secret section sector security segment server service ' +
  'session setting share shift signal site size snapshot software source space ' +
  'specification stack stage standard state statement status step storage store strategy ' +
  'stream structure subject subscription summary supplier support surface switch system ' +
  'table tag target task tax team template tenant term test thread threshold ticket tier ' +
  'time token tool topic total trace track trade traffic transaction transfer trend ' +
  'trigger type unit update upgrade usage user value vendor version view volume warning ' +
  'week window worker workflow year zone'
).split(' ');
/** Verbs (their -s, -ed and -ing forms are derived). */
const VERBS = (
  'accept adjust allow apply approve assign attach avoid block build calculate cancel ' +
  'capture change check choose clean close collect combine compare complete configure ' +
  'confirm connect contain continue convert create deliver deploy describe detect ' +
  'determine develop disable enable encrypt ensure estimate evaluate exclude execute ' +
  'expand expect explain extend fetch follow generate handle identify implement improve ' +
  'include increase indicate install integrate keep limit maintain manage measure merge ' +
  'migrate monitor move notify observe obtain open operate perform prepare prevent ' +
  'process produce protect provide publish receive record reduce register reject remove ' +
  'rename replace report request require reserve resolve restore restrict return review ' +
  'rotate run save scale schedule select send separate serve share show sign sort split ' +
  'start stop store submit suggest support suspend switch sync test track transfer ' +
  'trigger update upload validate verify'
).split(' ');
/** Adjectives (their -ly adverbs are derived). */
const ADJECTIVES = (
  'active annual automatic available basic central clear common complete critical ' +
  'current daily dedicated direct early effective empty entire external final financial ' +
  'fixed formal free full general global high internal large late legal local low main ' +
  'major manual maximum minimum monthly multiple new normal official old open optional ' +
  'original other partial personal physical previous primary private public quarterly ' +
  'quick recent regular related remote required secure separate shared short similar ' +
  'simple single small specific stable standard strong technical temporary total typical ' +
  'unique valid visible weekly'
).split(' ');
/** Prefixes that make the rare words of the long tail (`subnetwork`, `multitenant`…). */
const PREFIXES = 're pre sub multi auto co non inter over under micro post'.split(' ');
const LICENSES = ['CC-BY-4.0', 'MIT', 'Apache-2.0', 'CC0-1.0', 'BSD-3-Clause'];
const TAGS = [
  'guide',
  'reference',
  'policy',
  'runbook',
  'faq',
  'release-notes',
  'legal',
  'archive',
];
/** Tag frequencies, aligned with TAGS: the last tags are rare. */
const TAG_WEIGHTS = [0.45, 0.35, 0.2, 0.15, 0.1, 0.06, 0.03, 0.02];

/** Shuffles a copy (Fisher–Yates). */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

const CONSONANT_Y = /[^aeiou]y$/;

/** `policy` → `policies`, `class` → `classes`, `table` → `tables`. */
const plural = (noun: string) => {
  if (CONSONANT_Y.test(noun)) return `${noun.slice(0, -1)}ies`;
  return /(s|x|z|ch|sh)$/.test(noun) ? `${noun}es` : `${noun}s`;
};
/** `-ed` and `-ing` forms: `store` → `stored`, `storing`; `apply` → `applied`. */
function verbForms(verb: string): string[] {
  const stem = verb.endsWith('e') ? verb.slice(0, -1) : verb;
  const past = CONSONANT_Y.test(verb) ? `${verb.slice(0, -1)}ied` : `${stem}ed`;
  return [past, `${stem}ing`, plural(verb)];
}
/** `-ly` adverbs of the adjectives that have a regular one: `formal` → `formally`, `stable` → `stably`. */
const adverbs = (adjectives: readonly string[]) =>
  adjectives.flatMap((adjective) => {
    if (adjective.endsWith('ble')) return [`${adjective.slice(0, -1)}y`];
    return /(al|ent|ive|ar|ete|ect|ate|ic)$/.test(adjective) ? [`${adjective}ly`] : [];
  });

/**
 * The vocabulary in rank order (rank 0 most frequent): the base words first, then their
 * inflections, then prefixed nouns and verbs as the rare long tail — common words are short
 * and mostly one cl100k token, rare ones longer, as in real documentation.
 */
function vocabularyOf(count: number, random: () => number): string[] {
  const stems = [...NOUNS, ...VERBS];
  const tiers = [
    [...NOUNS, ...VERBS, ...ADJECTIVES],
    [...NOUNS.map(plural), ...VERBS.flatMap(verbForms), ...adverbs(ADJECTIVES)],
    PREFIXES.flatMap((prefix) => stems.map((stem) => prefix + stem)),
  ];
  return [...new Set(tiers.flatMap((tier) => shuffled([...new Set(tier)], random)))].slice(
    0,
    count,
  );
}

/**
 * Draws a rank from a Zipf–Mandelbrot distribution over `size` ranks, `p(r) ∝ 1 / (r + 1 +
 * offset)^exponent`, by inverse CDF.
 */
function zipfSampler(size: number, exponent: number, offset = 0): (random: () => number) => number {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank += 1) {
    total += 1 / (rank + 1 + offset) ** exponent;
    cumulative[rank] = total;
  }
  return (random) => {
    const target = random() * total;
    let low = 0;
    let high = size - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] ?? total) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

const pick = <T>(items: readonly T[], random: () => number): T => {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
};
const between = (low: number, high: number, random: () => number) =>
  low + Math.floor(random() * (high - low + 1));
const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** What one document writes with: its generator, its topic words and the shared vocabulary. */
interface Writer {
  random: () => number;
  topic: string[];
  word: () => string;
}

function sentence(writer: Writer, words: number): string {
  const parts: string[] = [];
  for (let index = 0; index < words; index += 1) {
    const functionWord = index > 0 && writer.random() < 0.35;
    parts.push(functionWord ? pick(FUNCTION_WORDS, writer.random) : writer.word());
    if (index > 2 && index < words - 2 && writer.random() < 0.06) parts.push(',');
  }
  return `${capitalise(parts.join(' ').replaceAll(' ,', ','))}.`;
}

function paragraph(writer: Writer): string {
  const sentences = between(2, 6, writer.random);
  return Array.from({ length: sentences }, () =>
    sentence(writer, between(8, 24, writer.random)),
  ).join(' ');
}

function list(writer: Writer): string {
  const items = between(3, 7, writer.random);
  return Array.from(
    { length: items },
    () => `- ${sentence(writer, between(3, 9, writer.random))}`,
  ).join('\n');
}

function heading(writer: Writer, level: number): string {
  const words = Array.from({ length: between(2, 4, writer.random) }, () => writer.word());
  return `${'#'.repeat(level)} ${words.map(capitalise).join(' ')}`;
}

/** One in twenty documents mentions a contact (redacted at ingestion, as real ones are). */
function contactLine(writer: Writer, index: number): string {
  return `Questions go to ${pick(writer.topic, writer.random)}.owner${String(index)}@example.com or +1 415 555 0${String(100 + (index % 900))}.`;
}

/** Sections until about `words` words are written. */
function body(writer: Writer, words: number): string[] {
  const blocks: string[] = [];
  let written = 0;
  while (written < words) {
    blocks.push(heading(writer, writer.random() < 0.3 && blocks.length > 0 ? 3 : 2));
    for (let count = between(2, 6, writer.random); count > 0; count -= 1) {
      const block = writer.random() < 0.2 ? list(writer) : paragraph(writer);
      written += block.split(' ').length;
      blocks.push(block);
    }
  }
  return blocks;
}

/** Document sizes are log-normal: median ~1,900 words (~6 chunks), a long tail past 40 chunks. */
function documentWords(random: () => number): number {
  const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.round(Math.min(30_000, Math.max(120, Math.exp(7.55 + 0.9 * gaussian))));
}

/** Mostly internal documents; one in twenty restricted (a member searching does not see those). */
function classificationOf(random: () => number): SyntheticDocument['classification'] {
  const draw = random();
  if (draw < 0.2) return 'public';
  if (draw < 0.8) return 'internal';
  return draw < 0.95 ? 'confidential' : 'restricted';
}

function tagsOf(random: () => number): string[] {
  const tags = TAGS.filter((_, index) => random() < (TAG_WEIGHTS[index] ?? 0));
  return tags.length > 0 ? tags : ['guide'];
}

/** The deterministic corpus of `options.seed` (see the file comment). */
export function createSyntheticLibraryCorpus(
  options: SyntheticLibraryCorpusOptions,
): SyntheticLibraryCorpus {
  const vocabulary = vocabularyOf(options.vocabulary ?? 5_000, seededRandom(options.seed));
  const zipf = zipfSampler(vocabulary.length, 1.05, 4);
  const topicZipf = zipfSampler(Math.min(2_000, vocabulary.length) - 50, 0.3);
  const wordAt = (rank: number) => vocabulary[rank] ?? 'lorem';

  function writerFor(index: number, revision: number): Writer {
    const random = seededRandom(derivedSeed(options.seed, 0x0d0c, index));
    const topic = Array.from({ length: 40 }, () => wordAt(50 + topicZipf(random)));
    // A revision keeps the document's topic and size; its words are drawn anew.
    const words = seededRandom(derivedSeed(options.seed, 0x7e51 + revision, index));
    const word = () => (words() < 0.3 ? pick(topic, words) : wordAt(zipf(words)));
    return { random: words, topic, word };
  }

  function document(index: number, revision = 0): SyntheticDocument {
    const meta = seededRandom(derivedSeed(options.seed, 0x4d45, index));
    const size = documentWords(meta);
    const writer = writerFor(index, revision);
    const title = heading(writer, 1).slice(2);
    const blocks = body(writer, size);
    if (index % 20 === 7) blocks.splice(1, 0, contactLine(writer, index));
    return {
      title,
      content: [`# ${title}`, ...blocks].join('\n\n') + '\n',
      mediaType: 'text/markdown',
      license: pick(LICENSES, meta),
      source: `https://docs.example.com/library-bench/${String(index)}`,
      author: `author-${String(index % 97)}`,
      tags: tagsOf(meta),
      classification: classificationOf(meta),
    };
  }

  function longQuery(
    random: () => number,
    documents: number,
    revisionOf: (index: number) => number,
  ): string {
    const index = Math.floor(random() * documents);
    const content = document(index, revisionOf(index)).content;
    const prose = content
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('- '));
    const words = pick(prose, random).replace(/[.,]/g, '').split(' ');
    const length = between(5, 8, random);
    const start = Math.floor(random() * Math.max(1, words.length - length));
    return words
      .slice(start, start + length)
      .join(' ')
      .toLowerCase();
  }

  return {
    tags: TAGS,
    document,
    queries(count, documents, revisionOf = () => 0) {
      const random = seededRandom(derivedSeed(options.seed, 0x5eac, count));
      return Array.from({ length: count }, (_, index): SyntheticQuery => {
        if (index % 2 === 1) {
          return { q: longQuery(random, documents, revisionOf), kind: 'long' };
        }
        const words = Array.from({ length: between(1, 2, random) }, () => wordAt(zipf(random)));
        return { q: words.join(' '), kind: 'short' };
      });
    },
  };
}
