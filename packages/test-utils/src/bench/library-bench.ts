/**
 * `npm run bench:library [-- --chunks 100000 --queries 500 --concurrency 4 --keep --database NAME --json]`:
 * the tenant library at scale, in process. Needs `DATABASE_URL`: a PostgreSQL server with
 * pgvector (superuser). Creates a database, opens the library on a pool of it
 * (`createLibrary`, the default 384-dimension lexical-hash embedder), ingests a
 * deterministic synthetic Markdown corpus (synthetic-library-corpus.ts) through
 * `library.ingest` as a tenant admin until it holds `--chunks` chunks, ingests a share of the
 * documents again as new versions (`--revisions`), then times `--queries` searches of a tenant
 * member, one at a time:
 *
 * - the hybrid `library.search` (limit 10), as the service answers it;
 * - the vector ranking and the full-text ranking alone: the very statements the store sent
 *   for that search (captured on the pool, so they follow the store's SQL as it changes),
 *   sent again on their own;
 * - recall@10 of the vector ranking (pgvector HNSW) against the exact top 10: the same
 *   statement with index scans off, so every candidate chunk's distance is computed;
 * - candidates, clearly labelled: the captured statements under other settings
 *   (`hnsw.ef_search`, `hnsw.iterative_scan`) or rewritten (other query shapes), with their
 *   latency and recall (vector) or agreement with the store's ranking (full text);
 * - the same for a search filtered on a rare tag (a selective filter).
 *
 * Reports ingestion throughput (documents/s, chunks/s, MB/s), the process's peak RSS and heap
 * while ingesting and while searching, and the size of the library's tables and indexes.
 * `--keep` keeps the database (default name `library_bench`, or `--database NAME`) and reuses
 * it when it is already ingested: the search part alone takes a few minutes.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type RequestPrincipal } from '@citadel/data-plane-runtime';
import { createLibrary, type Library } from '@citadel/library';
import { ensureDatabase, quoteIdentifier } from '@citadel/postgres';
import pg from 'pg';
import { percentile } from './percentile.ts';
import {
  createSyntheticLibraryCorpus,
  type SyntheticDocument,
  type SyntheticLibraryCorpus,
  type SyntheticQuery,
} from './synthetic-library-corpus.ts';

const { values } = parseArgs({
  options: {
    chunks: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '500' },
    /** Ingestions in flight. */
    concurrency: { type: 'string', default: '4' },
    /** Share of the documents ingested again as a second version. */
    revisions: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '1' },
    /** Keep the database, and reuse it when it is already ingested. */
    keep: { type: 'boolean', default: false },
    database: { type: 'string' },
    /** The store's statements only, no candidates. */
    'skip-candidates': { type: 'boolean', default: false },
    /** Print EXPLAIN (ANALYZE, BUFFERS) of the store's two rankings for a 1-word query. */
    explain: { type: 'boolean', default: false },
    /** Print the JSON line only. */
    json: { type: 'boolean', default: false },
  },
});
const TARGET_CHUNKS = Number(values.chunks);
const QUERY_COUNT = Number(values.queries);
const CONCURRENCY = Number(values.concurrency);
const REVISION_SHARE = Number(values.revisions);
const SEED = Number(values.seed);
const WARM_UP_QUERIES = 20;
/** The default embedder's dimensions (the lexical-hash embedder the library opens with). */
const DIMENSIONS = 384;
/** The tag of the filtered searches: on ~3 % of the documents. */
const RARE_TAG = 'legal';
const MIB = 2 ** 20;
const TENANT_ID = '7d1f7d2e-5c1b-4f0e-9a57-3c2b1a0f9e8d';
/** Ingests (may write every classification). */
const ADMIN: RequestPrincipal = { type: 'user', id: 'bench-admin', roles: ['admin'] };
/** Searches: a member sees public, internal and confidential documents, not restricted ones. */
const MEMBER: RequestPrincipal = { type: 'user', id: 'bench-member', roles: ['member'] };

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const log = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`);
};

// ---------------------------------------------------------------------------------------
// Database, memory

interface BenchDatabase {
  url: string;
  name: string;
  release(): Promise<void>;
}

async function onServer<T>(serverUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A fresh database, or with --keep the named one as it is (created when missing). */
async function openBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name =
    values.database ??
    (values.keep ? 'library_bench' : `library_bench_${randomUUID().slice(0, 8)}`);
  if (!values.keep) {
    await onServer(serverUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
    );
  }
  const url = await ensureDatabase(serverUrl, name);
  return {
    url,
    name,
    async release() {
      if (values.keep) return;
      await onServer(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
      );
    },
  };
}

/** What the ingesting run recorded (the bench's own table, outside the library's schema). */
interface IngestedCorpus {
  seed: number;
  documents: number;
  revisionStep: number;
  ingestion: IngestionStats;
}

async function ingestedCorpus(pool: pg.Pool): Promise<IngestedCorpus | undefined> {
  const { rows } = await pool.query<{ found: boolean }>(
    "SELECT to_regclass('public.library_bench_corpus') IS NOT NULL AS found",
  );
  if (!rows[0]?.found) return undefined;
  const stored = await pool.query<{ corpus: IngestedCorpus }>(
    'SELECT corpus FROM public.library_bench_corpus',
  );
  return stored.rows[0]?.corpus;
}

async function recordIngestedCorpus(pool: pg.Pool, corpus: IngestedCorpus): Promise<void> {
  await pool.query(
    'CREATE TABLE IF NOT EXISTS public.library_bench_corpus (corpus jsonb NOT NULL)',
  );
  await pool.query('DELETE FROM public.library_bench_corpus');
  await pool.query('INSERT INTO public.library_bench_corpus (corpus) VALUES ($1)', [
    JSON.stringify(corpus),
  ]);
}

interface MemoryPeak {
  rssMiB: number;
  heapUsedMiB: number;
}

/** Samples the process's RSS and V8 heap every 100 ms until stopped; answers the peaks. */
function sampleMemory(): { stop(): MemoryPeak } {
  const peak = { rss: 0, heapUsed: 0 };
  const sample = () => {
    const usage = process.memoryUsage();
    peak.rss = Math.max(peak.rss, usage.rss);
    peak.heapUsed = Math.max(peak.heapUsed, usage.heapUsed);
  };
  sample();
  const timer = setInterval(sample, 100);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { rssMiB: round(peak.rss / MIB), heapUsedMiB: round(peak.heapUsed / MIB) };
    },
  };
}

/**
 * CPU seconds (user + system) of this machine's PostgreSQL processes so far, from /proc
 * (Linux); 0 when the server runs elsewhere. Backends that exited are not counted.
 */
async function postgresCpuSeconds(): Promise<number> {
  let ticks = 0;
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const [command, stat] = await Promise.all([
      readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => ''),
      readFile(`/proc/${entry}/stat`, 'utf8').catch(() => ''),
    ]);
    if (!command.startsWith('postgres')) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return ticks / 100;
}

/** CPU seconds this process and the PostgreSQL processes spend until `stop`. */
async function measureCpu(): Promise<{ stop(): Promise<{ node: number; postgres: number }> }> {
  const node = process.cpuUsage();
  const postgres = await postgresCpuSeconds();
  return {
    async stop() {
      const used = process.cpuUsage(node);
      return {
        node: round((used.user + used.system) / 1e6),
        postgres: round((await postgresCpuSeconds()) - postgres),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------
// The library, and the statements it sends

/** One SQL statement as the library sent it on the pool. */
interface Statement {
  text: string;
  values: unknown[];
  /** The `SET LOCAL` statements sent before it in its transaction (none: not in one). */
  setup?: string[];
}

/**
 * Records the statements sent on the pool's connections while recording is on (`pool.query`
 * goes through `pool.connect` too). A statement sent inside a transaction keeps the
 * `SET LOCAL` statements sent before it in that transaction, so it can be replayed as sent.
 */
function recordStatements(pool: pg.Pool) {
  const recorded: Statement[] = [];
  const setups = new Map<object, string[]>();
  const spied = new WeakSet<object>();
  let recording = false;
  const note = (client: object, text: string, values: unknown[]) => {
    if (/^\s*BEGIN\b/i.test(text)) setups.set(client, []);
    else if (/^\s*SET LOCAL\b/i.test(text)) setups.get(client)?.push(text);
    else if (/^\s*(COMMIT|ROLLBACK)\b/i.test(text)) setups.delete(client);
    else recorded.push({ text, values, setup: [...(setups.get(client) ?? [])] });
  };
  const spy = (client: pg.PoolClient) => {
    if (spied.has(client)) return;
    spied.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const [text, values] = args;
      if (recording && typeof text === 'string') {
        note(client, text, Array.isArray(values) ? (values as unknown[]).slice() : []);
      }
      return query(...args);
    }) as typeof client.query;
  };
  type Connected = (
    error: Error | undefined,
    client: pg.PoolClient | undefined,
    done: () => void,
  ) => void;
  const connect = pool.connect.bind(pool) as (
    callback?: Connected,
  ) => Promise<pg.PoolClient> | undefined;
  pool.connect = ((callback?: Connected) => {
    if (callback) {
      return connect((error, client, done) => {
        if (client) spy(client);
        callback(error, client, done);
      });
    }
    const connected = connect();
    if (!connected) throw new Error('pool.connect without a callback answers a promise');
    return connected.then((client) => {
      spy(client);
      return client;
    });
  }) as typeof pool.connect;
  return {
    async during<T>(work: () => Promise<T>): Promise<{ value: T; statements: Statement[] }> {
      recorded.length = 0;
      recording = true;
      try {
        return { value: await work(), statements: [...recorded] };
      } finally {
        recording = false;
      }
    },
  };
}

type IngestRequest = Parameters<Library['ingest']>[0];

function ingestRequestOf(document: SyntheticDocument, documentId?: string): IngestRequest {
  return {
    title: document.title,
    content: { text: document.content },
    mediaType: document.mediaType,
    license: document.license,
    source: document.source,
    author: document.author,
    tags: document.tags,
    classification: document.classification,
    documentId,
  };
}

async function ingestDocument(
  library: Library,
  document: SyntheticDocument,
  documentId?: string,
): Promise<{ id: string; chunks: number }> {
  const outcome = await library.ingest(ingestRequestOf(document, documentId), {
    principal: ADMIN,
  });
  if (outcome.kind !== 'done') {
    throw new Error(`ingestion ended ${outcome.kind}: ${JSON.stringify(outcome)}`);
  }
  return { id: outcome.result.id, chunks: outcome.result.chunks };
}

// ---------------------------------------------------------------------------------------
// Ingestion

interface IngestionStats {
  documents: number;
  chunks: number;
  megabytes: number;
  seconds: number;
  documentsPerSecond: number;
  chunksPerSecond: number;
  megabytesPerSecond: number;
  /** Chunks per second over each tenth of the target: how ingestion slows as the library grows. */
  chunksPerSecondByTenth: number[];
  ingestP50Ms: number;
  ingestP95Ms: number;
  revised: { documents: number; chunks: number; seconds: number; chunksPerSecond: number };
  memory: MemoryPeak;
  /** CPU seconds of the whole ingestion: this process, and the local PostgreSQL's processes. */
  cpuSeconds: { node: number; postgres: number };
}

interface IngestProgress {
  next: number;
  chunks: number;
  bytes: number;
  latencies: number[];
  ids: string[];
  started: number;
  /** [elapsed seconds, chunks] each time another tenth of the target was reached. */
  marks: Array<[number, number]>;
}

const elapsedSeconds = (since: number) => (performance.now() - since) / 1000;

async function ingestNext(
  library: Library,
  corpus: SyntheticLibraryCorpus,
  progress: IngestProgress,
) {
  const index = progress.next;
  progress.next += 1;
  const document = corpus.document(index);
  const before = performance.now();
  const result = await ingestDocument(library, document);
  progress.latencies.push(performance.now() - before);
  progress.ids[index] = result.id;
  progress.chunks += result.chunks;
  progress.bytes += Buffer.byteLength(document.content);
  const tenths = Math.min(10, Math.floor((progress.chunks / TARGET_CHUNKS) * 10));
  while (progress.marks.length < tenths) {
    progress.marks.push([elapsedSeconds(progress.started), progress.chunks]);
    log(
      `  ${String(progress.chunks)} chunks, ${String(progress.next)} documents, ${String(round(elapsedSeconds(progress.started)))} s`,
    );
  }
}

function ingestionStats(progress: IngestProgress) {
  const seconds = elapsedSeconds(progress.started);
  const sorted = [...progress.latencies].sort((a, b) => a - b);
  const byTenth = progress.marks.map(([at, chunks], index) => {
    const [previousAt, previousChunks] = progress.marks[index - 1] ?? [0, 0];
    return Math.round((chunks - previousChunks) / (at - previousAt));
  });
  return {
    documents: progress.ids.length,
    chunks: progress.chunks,
    megabytes: round(progress.bytes / 1e6, 2),
    seconds: round(seconds),
    documentsPerSecond: round(progress.ids.length / seconds),
    chunksPerSecond: Math.round(progress.chunks / seconds),
    megabytesPerSecond: round(progress.bytes / 1e6 / seconds, 3),
    chunksPerSecondByTenth: byTenth,
    ingestP50Ms: round(percentile(sorted, 0.5)),
    ingestP95Ms: round(percentile(sorted, 0.95)),
  };
}

/** Documents in index order, `--concurrency` in flight, until the target's chunks are in. */
async function ingestCorpus(library: Library, corpus: SyntheticLibraryCorpus) {
  const progress: IngestProgress = {
    next: 0,
    chunks: 0,
    bytes: 0,
    latencies: [],
    ids: [],
    started: performance.now(),
    marks: [],
  };
  const worker = async () => {
    while (progress.chunks < TARGET_CHUNKS) await ingestNext(library, corpus, progress);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { ids: progress.ids, stats: ingestionStats(progress) };
}

/** Every `step`-th document gets a second version (its first version's chunks stay, not current). */
const revisionStepOf = (share: number) => (share > 0 ? Math.max(1, Math.round(1 / share)) : 0);
const isRevised = (index: number, step: number) => step > 0 && index % step === step - 1;

async function reviseDocuments(
  library: Library,
  corpus: SyntheticLibraryCorpus,
  ids: string[],
  step: number,
) {
  const indexes = ids.map((_, index) => index).filter((index) => isRevised(index, step));
  const started = performance.now();
  let chunks = 0;
  let cursor = 0;
  const worker = async () => {
    for (let position = cursor++; position < indexes.length; position = cursor++) {
      const index = indexes[position] ?? 0;
      const result = await ingestDocument(library, corpus.document(index, 1), ids[index]);
      chunks += result.chunks;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = elapsedSeconds(started);
  return {
    documents: indexes.length,
    chunks,
    seconds: round(seconds),
    chunksPerSecond: Math.round(chunks / seconds),
  };
}

async function ingestPhase(
  library: Library,
  pool: pg.Pool,
  corpus: SyntheticLibraryCorpus,
): Promise<IngestedCorpus> {
  log(`ingesting until ${String(TARGET_CHUNKS)} chunks, ${String(CONCURRENCY)} in flight…`);
  const memory = sampleMemory();
  const cpu = await measureCpu();
  const { ids, stats } = await ingestCorpus(library, corpus);
  const revisionStep = revisionStepOf(REVISION_SHARE);
  const revised = await reviseDocuments(library, corpus, ids, revisionStep);
  const ingestion = { ...stats, revised, memory: memory.stop(), cpuSeconds: await cpu.stop() };
  // Autovacuum analyzes after this many rows anyway; the bench does not wait for it.
  await pool.query('ANALYZE');
  const ingested = { seed: SEED, documents: ids.length, revisionStep, ingestion };
  await recordIngestedCorpus(pool, ingested);
  return ingested;
}

// ---------------------------------------------------------------------------------------
// Timing, recall, agreement

interface Latency {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

function latencyOf(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return {
    p50Ms: round(percentile(sorted, 0.5)),
    p95Ms: round(percentile(sorted, 0.95)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    meanMs: round(mean),
  };
}

/** One bench query and the two ranking statements the store sent for it. */
interface RecordedSearch {
  query: SyntheticQuery;
  vector: Statement;
  fullText: Statement;
}

/** A ranked row: the store's vector statement answers a distance, its full-text one a score. */
interface RankedRow {
  chunk_id: string;
  score?: number;
  distance?: number;
}

const scoreOf = (row: RankedRow) => row.score ?? 1 - (row.distance ?? 1);

/** What a statement answered: chunk ids and scores in rank order. */
interface Ranking {
  ids: string[];
  scores: number[];
}

/** What a server restart or an administrator ending connections looks like to the client. */
const CONNECTION_ENDED =
  /terminat|Connection terminated|ECONNREFUSED|ECONNRESET|starting up|shutting down|not yet accepting/i;

/**
 * Runs `work` again, up to 3 times 5 s apart, when the server ends its connections (a shared
 * server may be restarted): the interrupted measurement is repeated as a whole.
 */
async function surviveRestarts<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt > 3 || !(error instanceof Error) || !CONNECTION_ENDED.test(error.message)) {
        throw error;
      }
      process.stderr.write(`the server ended a connection (${error.message}); measuring again\n`);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
  }
}

/** How a candidate's settings are applied. */
interface Settings {
  values?: Record<string, string> | undefined;
  /**
   * `session` (default): once per connection, as `ALTER ROLE … SET` or a connection option
   * would; `transaction`: `SET LOCAL` in a transaction of its own around every statement, as
   * a store method would (the extra round trips are timed).
   */
  scope?: 'session' | 'transaction' | undefined;
  /** Replays the `SET LOCAL` statements the store sent with the statement (the current code). */
  replaySetup?: boolean;
}

async function applySettings(
  client: pg.PoolClient,
  values: Record<string, string>,
  local: boolean,
) {
  for (const [name, value] of Object.entries(values)) {
    await client.query('SELECT set_config($1, $2, $3)', [name, value, local]);
  }
}

/** Sends one ranking statement (with `SET LOCAL` in a transaction when so scoped). */
async function sendRanking(
  client: pg.PoolClient,
  statement: Statement,
  settings: Settings,
): Promise<Ranking> {
  const setup = settings.replaySetup ? (statement.setup ?? []) : [];
  const local = settings.scope === 'transaction' || setup.length > 0;
  if (local) {
    await client.query('BEGIN');
    for (const text of setup) await client.query(text);
    await applySettings(client, settings.values ?? {}, true);
  }
  const { rows } = await client.query<RankedRow>(statement.text, statement.values);
  if (local) await client.query('COMMIT');
  return { ids: rows.map((row) => row.chunk_id), scores: rows.map(scoreOf) };
}

/** A connection with the session settings applied; `release` resets them. */
async function settingsClient(pool: pg.Pool, settings: Settings) {
  const client = await pool.connect();
  if (settings.scope !== 'transaction' && !settings.replaySetup) {
    await applySettings(client, settings.values ?? {}, false);
  }
  return {
    client,
    async release() {
      try {
        await client.query('RESET ALL');
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : true);
      }
    },
  };
}

/** Sends each statement on one connection; times each. */
async function runStatementsOnce(
  pool: pg.Pool,
  statements: Statement[],
  settings: Settings = {},
): Promise<{ latencies: number[]; rankings: Ranking[] }> {
  const connection = await settingsClient(pool, settings);
  try {
    const latencies: number[] = [];
    const rankings: Ranking[] = [];
    for (const statement of statements) {
      const before = performance.now();
      rankings.push(await sendRanking(connection.client, statement, settings));
      latencies.push(performance.now() - before);
    }
    return { latencies, rankings };
  } finally {
    await connection.release();
  }
}

const runStatements = (...args: Parameters<typeof runStatementsOnce>) =>
  surviveRestarts(() => runStatementsOnce(...args));

/** Exact nearest neighbours: the same statements with index scans off (every distance computed). */
const EXACT: Settings = { values: { enable_indexscan: 'off', enable_bitmapscan: 'off' } };

/**
 * recall@10: the share of the exact top 10 found in the approximate top 10. A returned chunk
 * exactly as near as the exact 10th (a tie) counts as found.
 */
function recallAt10(approximate: Ranking[], exact: Ranking[]) {
  let found = 0;
  let wanted = 0;
  let shortAnswers = 0;
  exact.forEach((truth, index) => {
    const top = truth.ids.slice(0, 10);
    const tenth = truth.scores[top.length - 1] ?? 1;
    const answer = approximate[index] ?? { ids: [], scores: [] };
    const ids = answer.ids.slice(0, 10);
    const expected = new Set(top);
    wanted += top.length;
    if (ids.length < top.length) shortAnswers += 1;
    found += ids.filter(
      (id, rank) => expected.has(id) || (answer.scores[rank] ?? -1) >= tenth - 1e-6,
    ).length;
  });
  return { recall: round(found / Math.max(1, wanted), 4), shortAnswers };
}

/** Agreement of a full-text candidate with the store's ranking: overlap of the top 10s. */
function overlapAt10(candidate: Ranking[], reference: Ranking[]): number {
  let shared = 0;
  let total = 0;
  reference.forEach((ranking, index) => {
    const top = new Set(ranking.ids.slice(0, 10));
    total += top.size;
    shared += (candidate[index]?.ids ?? []).slice(0, 10).filter((id) => top.has(id)).length;
  });
  return total === 0 ? 1 : round(shared / total, 4);
}

// ---------------------------------------------------------------------------------------
// Candidates: the store's statements under other settings, or rewritten

interface Candidate {
  name: string;
  settings?: Settings;
  /** The statement's text rewritten; undefined when the store's SQL no longer has that shape. */
  rewrite?: (text: string) => string | undefined;
  /** Vector: also run for the filtered searches. */
  filtered?: boolean;
  /** Full text: scores on another scale than the store's (only ids are compared). */
  otherScores?: boolean;
  /** Runs the statements its own way (undefined: not applicable) instead of sending them. */
  run?: (pool: pg.Pool, statements: Statement[]) => Promise<StatementRuns | undefined>;
}

interface StatementRuns {
  latencies: number[];
  rankings: Ranking[];
}

/** `text` with `pattern` replaced, or undefined when `pattern` is not in it (the store's SQL changed shape). */
function replaced(text: string, pattern: RegExp, replacement: (...groups: string[]) => string) {
  return pattern.test(text)
    ? text.replace(pattern, (...match: string[]) => replacement(...match))
    : undefined;
}

const FROM_CHUNKS = /FROM library\.chunks c\b/;

/** The predicate that keeps a chunk of a current version, as the schema has it (`c0`: chunks). */
async function currentChunkTerm(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = 'library' AND table_name = 'chunks'
        AND column_name IN ('is_current', 'current')`,
  );
  const column = rows[0]?.column_name;
  return column === undefined ? 'true' : `c0.${column}`;
}

/**
 * V1: the store's vector statement ordered by distance alone, so that the HNSW index can
 * answer it (an index gives one order: `ORDER BY distance, c.id` is planned as an exact scan),
 * then re-sorted by (score, id) outside, which keeps the order stable and repairs the small
 * disorder `relaxed_order` allows.
 */
function byDistanceOnly(text: string): string | undefined {
  const tieBreak = /ORDER BY (c\.embedding <=> \$1::vector), c\.id/;
  if (!tieBreak.test(text)) {
    // The store already orders by the distance alone.
    return /ORDER BY c\.embedding <=> \$1::vector\s+LIMIT/.test(text) ? text : undefined;
  }
  const inner = replaced(text, tieBreak, (_, distance = '') => `ORDER BY ${distance}`);
  return inner && `SELECT * FROM (${inner}) nearest ORDER BY score DESC, chunk_id`;
}

/**
 * Candidate schema changes are measured on copies, in a schema of the bench database's own
 * (`library_bench_candidates`, rebuilt every run): the library's tables are left as it made
 * them.
 */
const CANDIDATES_SCHEMA = 'library_bench_candidates';

/**
 * The copies: `chunks_tsv_main`, the chunks table with its `tsv` column stored inline
 * (`STORAGE MAIN`: compressed in the row, not moved to TOAST) and its GIN index; and
 * `vectors_half` / `vectors`, narrow tables of every chunk's id, document, current flag and
 * embedding as `halfvec(384)` / `vector(384)` stored inline (`STORAGE PLAIN`), for exact scans
 * that read nothing else.
 */
async function createCandidateTables(pool: pg.Pool): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  const timed = async (name: string, sql: string) => {
    const started = performance.now();
    await pool.query(sql);
    seconds[name] = round(elapsedSeconds(started));
  };
  const schema = CANDIDATES_SCHEMA;
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  await timed(
    'chunks_tsv_main',
    `CREATE TABLE ${schema}.chunks_tsv_main (LIKE library.chunks);
     ALTER TABLE ${schema}.chunks_tsv_main ALTER COLUMN tsv SET STORAGE MAIN;
     INSERT INTO ${schema}.chunks_tsv_main SELECT * FROM library.chunks;
     ALTER TABLE ${schema}.chunks_tsv_main ADD PRIMARY KEY (id);
     CREATE INDEX ON ${schema}.chunks_tsv_main USING gin (tsv)`,
  );
  for (const [table, type] of [
    ['vectors_half', `halfvec(${String(DIMENSIONS)})`],
    ['vectors', `vector(${String(DIMENSIONS)})`],
  ] as const) {
    await timed(
      table,
      `CREATE TABLE ${schema}.${table} (id uuid PRIMARY KEY, document_id uuid NOT NULL,
         is_current boolean NOT NULL, embedding ${type} NOT NULL);
       ALTER TABLE ${schema}.${table} ALTER COLUMN embedding SET STORAGE PLAIN;
       INSERT INTO ${schema}.${table}
         SELECT id, document_id, is_current, embedding::${type} FROM library.chunks`,
    );
  }
  await pool.query(
    `VACUUM ANALYZE ${schema}.chunks_tsv_main, ${schema}.vectors_half, ${schema}.vectors`,
  );
  return seconds;
}

/**
 * X: exact nearest neighbours over a narrow table (no TOAST, no other column read): the
 * store's filters applied to it (aliased `c`, so its WHERE clause reads as written), its
 * best `$2` by the narrow embedding, then the store's columns for those, scored with the
 * stored full-precision embedding.
 */
const exactOverNarrowTable = (table: string, type: string) => (text: string) => {
  const parts = vectorStatementParts(text);
  if (!parts) return undefined;
  return `SELECT ${parts.columns}
    FROM library.chunks c JOIN library.documents d ON d.id = c.document_id
    WHERE c.id IN (
      SELECT c.id FROM ${CANDIDATES_SCHEMA}.${table} c JOIN library.documents d ON d.id = c.document_id
       WHERE ${parts.where}
       ORDER BY c.embedding <=> $1::vector::${type} LIMIT $2)
    ORDER BY c.embedding <=> $1::vector, c.id`;
};

/** The select list and WHERE clause of the store's vector statement (undefined: another shape). */
function vectorStatementParts(text: string): { columns: string; where: string } | undefined {
  // The innermost select list over the chunks (the store may wrap its query in another).
  const columns =
    /SELECT ((?:(?!SELECT\b)[\s\S])*?)\s+FROM library\.chunks c\s+JOIN library\.documents d ON d\.id = c\.document_id\s/.exec(
      text,
    )?.[1];
  const where = /\sWHERE ([\s\S]*?)\s+ORDER BY c\.embedding <=> \$1::vector/.exec(text)?.[1];
  return columns === undefined || where === undefined ? undefined : { columns, where };
}

/** The store's full-text statement on the copy whose `tsv` is stored inline. */
const onTsvMainCopy = (text: string) =>
  replaced(text, FROM_CHUNKS, () => `FROM ${CANDIDATES_SCHEMA}.chunks_tsv_main c`);

/** Every current chunk's embedding held in this process, column-major: dimension d of row r at `values[d * ids.length + r]`. */
interface ColumnIndex {
  ids: string[];
  values: Float32Array;
  loadSeconds: number;
}

/** What the in-process candidate cost to hold: reported beside its latency. */
const inProcessIndex = { loadSeconds: 0, megabytes: 0, chunks: 0 };

async function loadColumnIndex(pool: pg.Pool, current: string): Promise<ColumnIndex> {
  const started = performance.now();
  // vector_send: int16 dimensions, int16 unused, then each dimension as a big-endian float4.
  const { rows } = await pool.query<{ id: string; bytes: Buffer }>(
    `SELECT c0.id, vector_send(c0.embedding) AS bytes FROM library.chunks c0 WHERE ${current}`,
  );
  const values = new Float32Array(rows.length * DIMENSIONS);
  rows.forEach((row, index) => {
    for (let dimension = 0; dimension < DIMENSIONS; dimension += 1) {
      values[dimension * rows.length + index] = row.bytes.readFloatBE(4 + 4 * dimension);
    }
  });
  const loadSeconds = round(elapsedSeconds(started));
  Object.assign(inProcessIndex, {
    loadSeconds,
    megabytes: round(values.byteLength / MIB),
    chunks: rows.length,
  });
  return { ids: rows.map((row) => row.id), values, loadSeconds };
}

/** Inserts `row` into `best` (rows ascending by score), keeping at most `count`. */
function keepBest(best: number[], row: number, scores: Float32Array, count: number): void {
  const score = scores[row] ?? 0;
  let at = 0;
  while (at < best.length && (scores[best[at] ?? 0] ?? 0) < score) at += 1;
  best.splice(at, 0, row);
  if (best.length > count) best.shift();
}

/** The rows of the `count` highest scores, best first. */
function topRows(scores: Float32Array, count: number): number[] {
  const best: number[] = [];
  for (let row = 0; row < scores.length; row += 1) {
    const worst = best.length === count ? (scores[best[0] ?? 0] ?? 0) : -Infinity;
    if ((scores[row] ?? 0) > worst) keepBest(best, row, scores, count);
  }
  return best.reverse();
}

/**
 * Dot products (cosines: both sides are unit vectors) of the query with every row, over the
 * query's nonzero dimensions only: a query of a few words has a few dozen.
 */
function scoreRows(index: ColumnIndex, query: Float32Array, scores: Float32Array): void {
  scores.fill(0);
  const rows = index.ids.length;
  query.forEach((weight, dimension) => {
    if (weight === 0) return;
    const offset = dimension * rows;
    for (let row = 0; row < rows; row += 1) {
      scores[row] = (scores[row] ?? 0) + weight * (index.values[offset + row] ?? 0);
    }
  });
}

const parseVector = (text: string) => Float32Array.from(text.slice(1, -1).split(','), Number);

/**
 * M: exact cosine in this process (see `scoreRows`), its best 200, then the store's columns
 * and filters for those in SQL. The filters are applied after the 200 are chosen, so a
 * selective filter is not served (the candidate runs unfiltered only).
 */
function inProcessExact(current: string): Candidate['run'] {
  let index: ColumnIndex | undefined;
  return async (pool, statements) => {
    index ??= await loadColumnIndex(pool, current);
    const loaded = index;
    const scores = new Float32Array(loaded.ids.length);
    const client = await pool.connect();
    try {
      const runs: StatementRuns = { latencies: [], rankings: [] };
      for (const statement of statements) {
        const parts = vectorStatementParts(statement.text);
        if (!parts) return undefined;
        const before = performance.now();
        scoreRows(loaded, parseVector(String(statement.values[0])), scores);
        const ids = topRows(scores, 200).map((row) => loaded.ids[row]);
        const { rows } = await client.query<RankedRow>(
          `SELECT ${parts.columns} FROM library.chunks c JOIN library.documents d ON d.id = c.document_id
            WHERE ${parts.where} AND c.id = ANY($${String(statement.values.length + 1)}::uuid[])
            ORDER BY c.embedding <=> $1::vector, c.id LIMIT $2`,
          [...statement.values, ids],
        );
        runs.latencies.push(performance.now() - before);
        runs.rankings.push({ ids: rows.map((row) => row.chunk_id), scores: rows.map(scoreOf) });
      }
      return runs;
    } finally {
      client.release();
    }
  };
}

const ef = (value: number) => ({ 'hnsw.ef_search': String(value) });
const relaxed = (value: number) => ({ ...ef(value), 'hnsw.iterative_scan': 'relaxed_order' });

function vectorCandidates(current: string): Candidate[] {
  return [
    { name: 'store SQL (the current code)', settings: { replaySetup: true }, filtered: true },
    { name: 'V1: ORDER BY distance only, ef_search 40', rewrite: byDistanceOnly, filtered: true },
    { name: 'V1, ef_search 100', settings: { values: ef(100) }, rewrite: byDistanceOnly },
    { name: 'V1, ef_search 200', settings: { values: ef(200) }, rewrite: byDistanceOnly },
    {
      name: 'V1, iterative relaxed_order, ef_search 40',
      settings: { values: relaxed(40) },
      rewrite: byDistanceOnly,
      filtered: true,
    },
    {
      name: 'V1, iterative relaxed_order, ef_search 100',
      settings: { values: relaxed(100) },
      rewrite: byDistanceOnly,
      filtered: true,
    },
    {
      name: 'V1, iterative relaxed_order, ef_search 100, SET LOCAL per query',
      settings: { values: relaxed(100), scope: 'transaction' },
      rewrite: byDistanceOnly,
      filtered: true,
    },
    {
      name: 'V1, iterative strict_order, ef_search 100',
      settings: { values: { ...ef(100), 'hnsw.iterative_scan': 'strict_order' } },
      rewrite: byDistanceOnly,
      filtered: true,
    },
    {
      name: 'X1: exact over a narrow vector(384) table (PLAIN), then the store columns',
      rewrite: exactOverNarrowTable('vectors', `vector(${String(DIMENSIONS)})`),
      filtered: true,
    },
    {
      name: 'X2: exact over a narrow halfvec(384) table (PLAIN), then the store columns',
      rewrite: exactOverNarrowTable('vectors_half', `halfvec(${String(DIMENSIONS)})`),
      filtered: true,
    },
    {
      name: "M: exact cosine in this process over the query's nonzero dimensions, then SQL",
      run: inProcessExact(current),
    },
    {
      name: 'V2: nearest 100 current chunks first, then join and filters, ef_search 100',
      settings: { values: ef(100) },
      filtered: true,
      rewrite: (text) =>
        replaced(
          text,
          FROM_CHUNKS,
          () => `FROM (SELECT c0.* FROM library.chunks c0 WHERE ${current}
                   ORDER BY c0.embedding <=> $1::vector LIMIT 100) c`,
        ),
    },
  ];
}

/** F3: rank only the first `cap` chunks the text search matches (in the table's order). */
const cappedMatches = (current: string, cap: number) => (text: string) =>
  replaced(
    text,
    FROM_CHUNKS,
    () => `FROM (SELECT c0.* FROM library.chunks c0
                  WHERE c0.tsv @@ websearch_to_tsquery('english', $1) AND ${current}
                  LIMIT ${String(cap)}) c`,
  );

function fullTextCandidates(current: string): Candidate[] {
  return [
    {
      name: 'store SQL: ts_rank_cd over every match (the current code)',
      settings: { replaySetup: true },
    },
    {
      name: 'F1: ts_rank over every match',
      rewrite: (text) => replaced(text, /ts_rank_cd\(c\.tsv, q\)/, () => 'ts_rank(c.tsv, q)'),
      otherScores: true,
    },
    {
      name: 'F2: rank in chunks alone, join the best 200',
      rewrite: (text) =>
        replaced(
          text,
          FROM_CHUNKS,
          () => `FROM (SELECT c0.* FROM library.chunks c0, websearch_to_tsquery('english', $1) q0
                  WHERE c0.tsv @@ q0 AND ${current}
                  ORDER BY ts_rank_cd(c0.tsv, q0) DESC, c0.id LIMIT 200) c`,
        ),
    },
    ...[1_000, 2_000, 5_000].map((cap) => ({
      name: `F3: ts_rank_cd over the first ${cap.toLocaleString('en')} matches only`,
      rewrite: cappedMatches(current, cap),
    })),
    { name: 'T1: store SQL, tsv STORAGE MAIN (table copy)', rewrite: onTsvMainCopy },
    ...[2_000, 5_000].map((cap) => ({
      name: `T1 + F3: tsv STORAGE MAIN, the first ${cap.toLocaleString('en')} matches only`,
      rewrite: (text: string) => {
        const capped = cappedMatches(current, cap)(text);
        return capped?.replace(
          'FROM library.chunks c0',
          `FROM ${CANDIDATES_SCHEMA}.chunks_tsv_main c0`,
        );
      },
    })),
  ];
}

interface CandidateRow {
  ranking: 'vector' | 'full-text';
  filter: string;
  name: string;
  latency?: Latency;
  short?: Latency;
  long?: Latency;
  /** Vector: recall@10 against exact; full text: overlap@10 with the store's ranking. */
  quality?: number;
  /** Queries answered with fewer than 10 (vector: fewer than the exact answer). */
  shortAnswers?: number;
  meanRows?: number;
  note?: string;
}

const meanRows = (rankings: Ranking[]) =>
  round(
    rankings.reduce((sum, ranking) => sum + ranking.ids.length, 0) / Math.max(1, rankings.length),
  );

const byKind = (searches: RecordedSearch[], latencies: number[], kind: SyntheticQuery['kind']) =>
  latencyOf(latencies.filter((_, index) => searches[index]?.query.kind === kind));

/** The statements as the candidate rewrites them; undefined when its rewrite does not apply. */
function rewriteAll(candidate: Candidate, statements: Statement[]): Statement[] | undefined {
  const rewritten: Statement[] = [];
  for (const statement of statements) {
    const text = candidate.rewrite ? candidate.rewrite(statement.text) : statement.text;
    if (text === undefined) return undefined;
    rewritten.push({ ...statement, text });
  }
  return rewritten;
}

async function runCandidate(pool: pg.Pool, candidate: Candidate, statements: Statement[]) {
  const run = candidate.run;
  if (run) return surviveRestarts(() => run(pool, statements));
  const rewritten = rewriteAll(candidate, statements);
  return rewritten && runStatements(pool, rewritten, candidate.settings);
}

/**
 * A search with a vector and a full-text candidate: both statements sent at once on two
 * connections, as `library.search` sends the store's (embedding the query and fusing the two
 * rankings, well under a millisecond, are left out).
 */
async function projectedSearchOnce(
  pool: pg.Pool,
  searches: RecordedSearch[],
  pair: { vector: Candidate; fullText: Candidate },
): Promise<Latency | undefined> {
  const vector = rewriteAll(
    pair.vector,
    searches.map((search) => search.vector),
  );
  const fullText = rewriteAll(
    pair.fullText,
    searches.map((search) => search.fullText),
  );
  if (!vector || !fullText) return undefined;
  const vectorSettings = pair.vector.settings ?? {};
  const fullTextSettings = pair.fullText.settings ?? {};
  const first = await settingsClient(pool, vectorSettings);
  const second = await settingsClient(pool, fullTextSettings);
  try {
    const latencies: number[] = [];
    for (const [index, statement] of vector.entries()) {
      const other = fullText[index] ?? statement;
      const before = performance.now();
      await Promise.all([
        sendRanking(first.client, statement, vectorSettings),
        sendRanking(second.client, other, fullTextSettings),
      ]);
      latencies.push(performance.now() - before);
    }
    return latencyOf(latencies);
  } finally {
    await first.release();
    await second.release();
  }
}

const projectedSearch = (...args: Parameters<typeof projectedSearchOnce>) =>
  surviveRestarts(() => projectedSearchOnce(...args));

interface CandidateRun {
  pool: pg.Pool;
  searches: RecordedSearch[];
  filter: string;
}

async function vectorRows(run: CandidateRun, candidates: Candidate[]): Promise<CandidateRow[]> {
  const statements = run.searches.map((search) => search.vector);
  const exact = await runStatements(run.pool, statements, EXACT);
  const rows: CandidateRow[] = [
    {
      ranking: 'vector',
      filter: run.filter,
      name: 'exact: store SQL with index scans off',
      latency: latencyOf(exact.latencies),
      quality: 1,
      meanRows: meanRows(exact.rankings),
    },
  ];
  for (const candidate of candidates) {
    const result = await runCandidate(run.pool, candidate, statements);
    const base = { ranking: 'vector' as const, filter: run.filter, name: candidate.name };
    if (!result) {
      rows.push({ ...base, note: 'the store SQL has another shape: not applicable' });
      continue;
    }
    const { recall, shortAnswers } = recallAt10(result.rankings, exact.rankings);
    const latency = latencyOf(result.latencies);
    rows.push({
      ...base,
      latency,
      quality: recall,
      shortAnswers,
      meanRows: meanRows(result.rankings),
    });
    log(
      `  vector, ${run.filter}: ${candidate.name}: p95 ${String(latency.p95Ms)} ms, recall@10 ${String(recall)}`,
    );
  }
  return rows;
}

async function fullTextRows(run: CandidateRun, candidates: Candidate[]): Promise<CandidateRow[]> {
  const statements = run.searches.map((search) => search.fullText);
  const rows: CandidateRow[] = [];
  let reference: Ranking[] | undefined;
  for (const candidate of candidates) {
    const result = await runCandidate(run.pool, candidate, statements);
    const base = { ranking: 'full-text' as const, filter: run.filter, name: candidate.name };
    if (!result) {
      rows.push({ ...base, note: 'the store SQL has another shape: not applicable' });
      continue;
    }
    reference ??= result.rankings;
    const latency = latencyOf(result.latencies);
    const quality = candidate.otherScores
      ? overlapAt10(result.rankings, reference)
      : recallAt10(result.rankings, reference).recall;
    rows.push({
      ...base,
      latency,
      short: byKind(run.searches, result.latencies, 'short'),
      long: byKind(run.searches, result.latencies, 'long'),
      quality,
      meanRows: meanRows(result.rankings),
    });
    log(
      `  full text, ${run.filter}: ${candidate.name}: p95 ${String(latency.p95Ms)} ms, overlap@10 ${String(quality)}`,
    );
  }
  return rows;
}

/**
 * Pairs of candidates projected as one search (see docs/benchmarks.md): exact rankings made
 * cheap (the one recommended for the lexical-hash embedder), the same with the full-text
 * candidates capped, and the HNSW shape a model embedder would use.
 */
const PROJECTED_PAIRS = [
  { vector: 'X2:', fullText: 'T1:' },
  { vector: 'X2:', fullText: 'T1 + F3: tsv STORAGE MAIN, the first 5,000' },
  { vector: 'SET LOCAL per query', fullText: 'T1 + F3: tsv STORAGE MAIN, the first 2,000' },
];

function projectedPairs(vector: Candidate[], fullText: Candidate[]) {
  return PROJECTED_PAIRS.flatMap((names) => {
    const vectorCandidate = vector.find((candidate) => candidate.name.includes(names.vector));
    const fullTextCandidate = fullText.find((candidate) => candidate.name.includes(names.fullText));
    return vectorCandidate && fullTextCandidate
      ? [{ vector: vectorCandidate, fullText: fullTextCandidate }]
      : [];
  });
}

// ---------------------------------------------------------------------------------------
// Searching

/** Hybrid searches one at a time, each with the ranking statements the store sent for it. */
async function recordSearchesOnce(
  library: Library,
  recorder: ReturnType<typeof recordStatements>,
  queries: SyntheticQuery[],
  filter: Record<string, string> = {},
) {
  const latencies: number[] = [];
  const searches: RecordedSearch[] = [];
  let withoutHits = 0;
  for (const query of queries) {
    const params = new URLSearchParams({ q: query.q, limit: '10', ...filter });
    const before = performance.now();
    const { value, statements } = await recorder.during(() => library.search(params, MEMBER));
    latencies.push(performance.now() - before);
    if (value.hits.length === 0) withoutHits += 1;
    const vector = statements.find((statement) => statement.text.includes('<=>'));
    const fullText = statements.find((statement) => statement.text.includes('@@'));
    if (!vector || !fullText)
      throw new Error(`the search of "${query.q}" sent no ranking statement`);
    searches.push({ query, vector, fullText });
  }
  return { latencies, searches, withoutHits };
}

const recordSearches = (...args: Parameters<typeof recordSearchesOnce>) =>
  surviveRestarts(() => recordSearchesOnce(...args));

function queriesFor(corpus: SyntheticLibraryCorpus, ingested: IngestedCorpus): SyntheticQuery[] {
  return corpus.queries(QUERY_COUNT + WARM_UP_QUERIES, ingested.documents, (index) =>
    isRevised(index, ingested.revisionStep) ? 1 : 0,
  );
}

async function searchPhase(
  library: Library,
  pool: pg.Pool,
  recorder: ReturnType<typeof recordStatements>,
  queries: SyntheticQuery[],
) {
  const memory = sampleMemory();
  await recordSearches(library, recorder, queries.slice(0, WARM_UP_QUERIES));
  const measured = queries.slice(WARM_UP_QUERIES);
  const hybrid = await recordSearches(library, recorder, measured);
  const filtered = await recordSearches(library, recorder, measured, { tag: RARE_TAG });
  const hybridMemory = memory.stop();
  log(`  hybrid search: p95 ${String(latencyOf(hybrid.latencies).p95Ms)} ms`);
  const current = await currentChunkTerm(pool);
  const all = !values['skip-candidates'];
  const candidateTables = all ? await createCandidateTables(pool) : {};
  const vector = vectorCandidates(current);
  const fullText = fullTextCandidates(current);
  const unfilteredRun = { pool, searches: hybrid.searches, filter: 'no filter' };
  const filteredRun = { pool, searches: filtered.searches, filter: `tag ${RARE_TAG}` };
  const rows = [
    ...(await vectorRows(unfilteredRun, all ? vector : vector.slice(0, 1))),
    ...(await fullTextRows(unfilteredRun, all ? fullText : fullText.slice(0, 1))),
    ...(await vectorRows(
      filteredRun,
      all ? vector.filter((candidate) => candidate.filtered) : vector.slice(0, 1),
    )),
  ];
  const projected = [];
  for (const pair of all ? projectedPairs(vector, fullText) : []) {
    projected.push({
      vector: pair.vector.name,
      fullText: pair.fullText.name,
      unfiltered: await projectedSearch(pool, hybrid.searches, pair),
      filtered: await projectedSearch(pool, filtered.searches, pair),
    });
  }
  const summary = (run: Awaited<ReturnType<typeof recordSearches>>) => ({
    ...latencyOf(run.latencies),
    short: byKind(run.searches, run.latencies, 'short'),
    long: byKind(run.searches, run.latencies, 'long'),
    queriesWithoutHits: run.withoutHits,
  });
  return {
    hybrid: summary(hybrid),
    filteredHybrid: summary(filtered),
    rows,
    projected,
    candidateTables,
    memory: hybridMemory,
    sample: hybrid.searches.find((search) => search.query.kind === 'short'),
  };
}

// ---------------------------------------------------------------------------------------
// Sizes, plans, report

/** Sizes of the library's tables (with TOAST) and of each of their indexes, in MiB. */
async function relationSizes(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ name: string; bytes: string }>(
    `SELECT name, bytes FROM (
       SELECT CASE WHEN n.nspname = 'library' THEN '' ELSE 'candidate ' END || c.relname AS name,
              CASE WHEN c.relkind = 'r' THEN pg_table_size(c.oid) ELSE pg_relation_size(c.oid) END AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('library', '${CANDIDATES_SCHEMA}') AND c.relkind IN ('r', 'i')
       UNION ALL SELECT 'database', pg_database_size(current_database())) sizes
     WHERE bytes > 1048576 ORDER BY bytes DESC`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, round(Number(row.bytes) / MIB)]));
}

async function chunkCounts(pool: pg.Pool, current: string) {
  const { rows } = await pool.query<{ rows: string; current: string; documents: string }>(
    `SELECT count(*) AS rows, count(*) FILTER (WHERE ${current}) AS current,
            count(DISTINCT c0.document_id) AS documents FROM library.chunks c0`,
  );
  const row = rows[0];
  return {
    rows: Number(row?.rows),
    current: Number(row?.current),
    documents: Number(row?.documents),
  };
}

async function explain(pool: pg.Pool, search: RecordedSearch | undefined): Promise<string[]> {
  if (!search) return [];
  const plans: string[] = [];
  for (const [label, statement] of [
    ['vector ranking', search.vector],
    [`full-text ranking of "${search.query.q}"`, search.fullText],
  ] as const) {
    const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`,
      statement.values,
    );
    plans.push(`-- ${label}`, ...rows.map((row) => row['QUERY PLAN']));
  }
  return plans;
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${String(os.cpus().length)} cores (${cpu}), ${String(Math.round(os.totalmem() / MIB))} MiB, Node ${process.version}`;
}

const latencyText = (latency: Latency | undefined) =>
  latency
    ? `p50 ${String(latency.p50Ms)} ms, p95 ${String(latency.p95Ms)} ms, p99 ${String(latency.p99Ms)} ms, max ${String(latency.maxMs)} ms`
    : 'not run';

type BenchResult = Awaited<ReturnType<typeof run>>;

function candidateLine(row: CandidateRow): string {
  if (row.note !== undefined) return `  ${row.ranking}, ${row.filter}: ${row.name}: ${row.note}`;
  const kinds =
    row.short && row.long
      ? ` (1–2 words p95 ${String(row.short.p95Ms)} ms, 5–8 words p95 ${String(row.long.p95Ms)} ms)`
      : '';
  const quality = row.ranking === 'vector' ? 'recall@10' : 'overlap@10';
  const shortAnswers = row.shortAnswers
    ? `, ${String(row.shortAnswers)} queries answered short`
    : '';
  return `  ${row.ranking}, ${row.filter}: ${row.name}: ${latencyText(row.latency)}${kinds}; ${quality} ${String(row.quality)}, ${String(row.meanRows)} rows${shortAnswers}`;
}

function ingestionLines(result: BenchResult): string[] {
  const ingestion = result.ingestion;
  return [
    `ingestion (${String(CONCURRENCY)} in flight${result.reused ? ', recorded by the run that ingested' : ''}): ${String(ingestion.documents)} documents, ${String(ingestion.chunks)} chunks, ${String(ingestion.megabytes)} MB in ${String(ingestion.seconds)} s = ${String(ingestion.documentsPerSecond)} documents/s, ${String(ingestion.chunksPerSecond)} chunks/s, ${String(ingestion.megabytesPerSecond)} MB/s`,
    `  chunks/s by tenth of the target: ${ingestion.chunksPerSecondByTenth.join(', ')}; one ingest p50 ${String(ingestion.ingestP50Ms)} ms, p95 ${String(ingestion.ingestP95Ms)} ms`,
    `  CPU: this process ${String(ingestion.cpuSeconds.node)} s, PostgreSQL ${String(ingestion.cpuSeconds.postgres)} s`,
    `  new versions: ${String(ingestion.revised.documents)} documents, ${String(ingestion.revised.chunks)} chunks in ${String(ingestion.revised.seconds)} s (${String(ingestion.revised.chunksPerSecond)} chunks/s)`,
    `memory: ingesting peak RSS ${String(ingestion.memory.rssMiB)} MiB, heap ${String(ingestion.memory.heapUsedMiB)} MiB; searching peak RSS ${String(result.search.memory.rssMiB)} MiB, heap ${String(result.search.memory.heapUsedMiB)} MiB`,
    `PostgreSQL sizes (MiB): ${Object.entries(result.sizes)
      .map(([name, size]) => `${name} ${String(size)}`)
      .join(', ')}`,
  ];
}

function projectedLines(result: BenchResult): string[] {
  const held = result.search.inProcessIndex;
  const index =
    held.chunks > 0
      ? [
          `in-process candidate M: ${String(held.chunks)} embeddings, ${String(held.megabytes)} MiB, loaded in ${String(held.loadSeconds)} s`,
        ]
      : [];
  return [
    ...index,
    ...result.search.projected.flatMap((projected) => [
      `projected search, "${projected.vector}" + "${projected.fullText}" (both sent at once): ${latencyText(projected.unfiltered)}`,
      `  with tag=${RARE_TAG}: ${latencyText(projected.filtered)}`,
    ]),
  ];
}

function report(result: BenchResult): string {
  const { hybrid, filteredHybrid } = result.search;
  const storeRow = (ranking: string) =>
    result.rows.find(
      (row) =>
        row.ranking === ranking &&
        row.filter === 'no filter' &&
        row.name.includes('the current code'),
    );
  const vector = storeRow('vector');
  const recall = vector?.quality ?? 0;
  return [
    `library bench: ${result.machine}; ${result.postgres}`,
    `corpus: seed ${String(result.seed)}, ${String(result.chunks.documents)} documents, ${String(result.chunks.current)} current chunks of ${String(result.chunks.rows)} chunk rows; database ${result.database}${result.reused ? ' (reused)' : ''}`,
    ...ingestionLines(result),
    `hybrid library.search (limit 10), ${String(QUERY_COUNT)} queries one at a time, as a member: ${latencyText(hybrid)}; 1–2 words p95 ${String(hybrid.short.p95Ms)} ms, 5–8 words p95 ${String(hybrid.long.p95Ms)} ms; ${String(hybrid.queriesWithoutHits)} without hits`,
    `  with tag=${RARE_TAG}: ${latencyText(filteredHybrid)}; ${String(filteredHybrid.queriesWithoutHits)} without hits`,
    `vector ranking alone (store SQL): ${latencyText(vector?.latency)}; recall@10 ${String(recall)}`,
    `full-text ranking alone (store SQL): ${latencyText(storeRow('full-text')?.latency)}`,
    `goals: search p95 <= 25 ms ${hybrid.p95Ms <= 25 ? 'met' : 'NOT met'} (${String(hybrid.p95Ms)} ms); recall@10 >= 0.95 ${recall >= 0.95 ? 'met' : 'NOT met'} (${String(recall)})`,
    ...projectedLines(result),
    'candidates (vector: recall@10 against exact; full text: overlap@10 with the store ranking):',
    ...result.rows.map(candidateLine),
    ...result.plans,
    '',
  ].join('\n');
}

async function run(serverUrl: string) {
  const database = await openBenchDatabase(serverUrl);
  const pool = new pg.Pool({ connectionString: database.url, max: CONCURRENCY + 2 });
  // An idle connection the server ends (a restart, an administrator) must not end the run.
  pool.on('error', (error) => process.stderr.write(`idle connection lost: ${error.message}\n`));
  const recorder = recordStatements(pool);
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    const library = await createLibrary({ pool, logger: silentLogger, tenantId: TENANT_ID });
    const corpus = createSyntheticLibraryCorpus({ seed: SEED });
    const previous = values.keep ? await ingestedCorpus(pool) : undefined;
    if (previous && previous.seed !== SEED) {
      throw new Error(
        `database ${database.name} holds the corpus of seed ${String(previous.seed)}`,
      );
    }
    const ingested = previous ?? (await ingestPhase(library, pool, corpus));
    log(`searching: ${String(QUERY_COUNT)} queries (+${String(WARM_UP_QUERIES)} warm-up)…`);
    const search = await searchPhase(library, pool, recorder, queriesFor(corpus, ingested));
    const versions = await pool.query<{ postgres: string; vector: string }>(
      `SELECT current_setting('server_version') AS postgres,
              (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector`,
    );
    await library.close();
    return {
      machine: machine(),
      postgres: `PostgreSQL ${versions.rows[0]?.postgres ?? '?'}, pgvector ${versions.rows[0]?.vector ?? '?'}`,
      database: database.name,
      reused: previous !== undefined,
      seed: SEED,
      chunks: await chunkCounts(pool, await currentChunkTerm(pool)),
      ingestion: ingested.ingestion,
      search: {
        hybrid: search.hybrid,
        filteredHybrid: search.filteredHybrid,
        memory: search.memory,
        projected: search.projected,
        candidateTablesBuildSeconds: search.candidateTables,
        inProcessIndex,
      },
      rows: search.rows,
      sizes: await relationSizes(pool),
      plans: values.explain ? await explain(pool, search.sample) : [],
    };
  } finally {
    await pool.end();
    await database.release();
  }
}

const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  process.stderr.write('bench:library needs DATABASE_URL: a PostgreSQL server with pgvector.\n');
  process.exit(2);
}
const result = await run(serverUrl);
if (!values.json) process.stdout.write(report(result));
process.stdout.write(`${JSON.stringify({ ...result, plans: undefined })}\n`);
