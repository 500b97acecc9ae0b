/**
 * `npm run bench:scim [-- --users 10000 --requests 500 --json]`: starts the platform as
 * `npm start` does, on a fresh database (of the `DATABASE_URL` server, or an embedded
 * PostgreSQL), creates a tenant, writes N realistic SCIM users straight into
 * `tenant_users` (plus a few hundred through `POST /scim/v2/Users`, to time the write path
 * and prove the rows look like the API's), then times filtered `GET /scim/v2/Users`
 * requests with `count=100`, one at a time, and reports p50/p95/p99 per filter.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { dropPlatformResources } from '../drop-platform-resources.ts';
import { startPlatformProcess } from '../platform-process.ts';
import { queryRows } from '../query-rows.ts';
import { startTestPostgres } from '../test-postgres.ts';
import { waitFor } from '../wait-for.ts';
import { percentile } from './percentile.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    posted: { type: 'string', default: '200' },
    requests: { type: 'string', default: '500' },
    json: { type: 'boolean', default: false },
  },
});
const userCount = Number(values.users);
const postedCount = Number(values.posted);
const requestCount = Number(values.requests);
const token = 'bench-admin-token-0123456789abcdef';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const FAMILY_NAMES = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller'];
const FAMILY_NAMES_MORE = ['Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez'];
const FAMILIES = [...FAMILY_NAMES, ...FAMILY_NAMES_MORE, 'Wilson', 'Anderson', 'Thomas'];
const GIVEN_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Ken', 'Linus'];
const DEPARTMENTS = ['R&D', 'Sales', 'Finance', 'Support', 'Legal', 'Marketing'];
/** Users were created over the last 30 days; every run uses the same spread. */
const SPAN_MS = 30 * 24 * 3600_000;

const round = (value: number) => Math.round(value * 10) / 10;
const pick = <T>(items: T[], index: number): T => items[index % items.length] as T;

/** A user as Okta provisions one: core attributes, two emails, a phone, the enterprise extension. */
function scimUser(index: number): Record<string, unknown> {
  const given = pick(GIVEN_NAMES, index);
  const family = pick(FAMILIES, Math.floor(index / 3));
  const userName = `${given.toLowerCase()}.${family.toLowerCase()}.${String(index)}@example.com`;
  return {
    userName,
    name: { givenName: given, familyName: family, formatted: `${given} ${family}` },
    displayName: `${given} ${family}`,
    externalId: `00u${String(index).padStart(8, '0')}`,
    emails: [
      { value: userName, type: 'work', primary: true },
      { value: `${given.toLowerCase()}${String(index)}@home.test`, type: 'home' },
    ],
    phoneNumbers: [{ value: `+1 555 ${String(index).padStart(7, '0')}`, type: 'mobile' }],
    locale: 'en-US',
    title: index % 5 === 0 ? 'Engineer' : 'Analyst',
    active: index % 20 !== 0,
    [ENTERPRISE]: { employeeNumber: String(index), department: pick(DEPARTMENTS, index) },
  };
}

interface Bench {
  url: string;
  scimToken: string;
}

async function api(bench: Bench, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${bench.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
}

async function scimGet(bench: Bench, path: string): Promise<{ ms: number; body: unknown }> {
  const started = performance.now();
  const response = await fetch(`${bench.url}/scim/v2${path}`, {
    headers: { authorization: `Bearer ${bench.scimToken}` },
  });
  const body: unknown = await response.json();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`GET ${path}: ${String(response.status)}`);
  return { ms, body };
}

/**
 * Inserts users in batches of 1,000 as `POST /scim/v2/Users` would store them (the same
 * normalized resource, columns derived from it), with creation times spread over 30 days.
 */
async function insertUsers(databaseUrl: string, tenantId: string, from: number, to: number) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const now = Date.now();
  try {
    for (let start = from; start < to; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, to - start) }, (_unused, offset) => {
        const resource = scimUser(start + offset);
        const created = now - SPAN_MS + Math.floor(((start + offset) / to) * SPAN_MS);
        return {
          user_name: resource.userName,
          external_id: resource.externalId,
          active: resource.active,
          display_name: resource.displayName,
          resource,
          created_at: new Date(created).toISOString(),
          updated_at: new Date(created + ((start + offset) % 7) * 3600_000).toISOString(),
        };
      });
      await client.query(
        `INSERT INTO tenant_users (id, tenant_id, user_name, user_name_key, external_id, active,
           display_name, resource, version, created_at, updated_at)
         SELECT gen_random_uuid(), $1::uuid, x.user_name, lower(x.user_name), x.external_id,
           x.active, x.display_name, x.resource, 1, x.created_at, x.updated_at
         FROM jsonb_to_recordset($2::jsonb) AS x(user_name text, external_id text,
           active boolean, display_name text, resource jsonb, created_at timestamptz,
           updated_at timestamptz)`,
        [tenantId, JSON.stringify(batch)],
      );
    }
    await client.query('ANALYZE tenant_users');
  } finally {
    await client.end();
  }
}

/** POSTs users through SCIM, eight at a time; returns each request's latency. */
async function postUsers(bench: Bench, from: number, to: number): Promise<number[]> {
  const latencies: number[] = [];
  const indexes = Array.from({ length: to - from }, (_unused, offset) => from + offset);
  const worker = async () => {
    for (let index = indexes.shift(); index !== undefined; index = indexes.shift()) {
      const started = performance.now();
      const response = await fetch(`${bench.url}/scim/v2/Users`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bench.scimToken}`,
          'content-type': 'application/scim+json',
        },
        body: JSON.stringify(scimUser(index)),
      });
      await response.text();
      if (response.status !== 201)
        throw new Error(`POST user ${String(index)}: ${String(response.status)}`);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return latencies.sort((a, b) => a - b);
}

/** The filters measured, each with a value drawn per request. */
function filters(random: () => number): Array<{ name: string; filter: () => string }> {
  const now = Date.now();
  return [
    {
      name: 'userName eq "…"',
      filter: () => {
        const user = scimUser(Math.floor(random() * userCount));
        return `userName eq "${String(user.userName).toUpperCase()}"`;
      },
    },
    {
      name: 'emails[type eq "work" and value co "example"]',
      filter: () => 'emails[type eq "work" and value co "example"]',
    },
    {
      name: 'name.familyName sw "…"',
      filter: () =>
        `name.familyName sw "${pick(FAMILIES, Math.floor(random() * 100)).slice(0, 3)}"`,
    },
    {
      name: 'meta.lastModified gt "…"',
      filter: () => `meta.lastModified gt "${new Date(now - random() * SPAN_MS).toISOString()}"`,
    },
  ];
}

/** A seeded generator (mulberry32), so runs draw the same filter values. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function measure(bench: Bench) {
  const kinds = filters(seeded(42));
  const byKind = new Map<string, { latencies: number[]; totals: number[] }>(
    kinds.map((kind) => [kind.name, { latencies: [], totals: [] }]),
  );
  // Warm-up: JIT, connection pools, the text-fold probe, PostgreSQL's caches.
  for (let index = 0; index < 40; index += 1) {
    const kind = pick(kinds, index);
    await scimGet(bench, `/Users?count=100&filter=${encodeURIComponent(kind.filter())}`);
  }
  const all: number[] = [];
  for (let index = 0; index < requestCount; index += 1) {
    const kind = pick(kinds, index);
    const path = `/Users?count=100&filter=${encodeURIComponent(kind.filter())}`;
    const { ms, body } = await scimGet(bench, path);
    const stats = byKind.get(kind.name);
    stats?.latencies.push(ms);
    stats?.totals.push((body as { totalResults: number }).totalResults);
    all.push(ms);
  }
  const summary = (latencies: number[]) => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      requests: sorted.length,
      p50Ms: round(percentile(sorted, 0.5)),
      p95Ms: round(percentile(sorted, 0.95)),
      p99Ms: round(percentile(sorted, 0.99)),
    };
  };
  return {
    overall: summary(all),
    filters: [...byKind].map(([name, stats]) => ({
      filter: name,
      ...summary(stats.latencies),
      medianTotalResults: percentile(
        [...stats.totals].sort((a, b) => a - b),
        0.5,
      ),
    })),
  };
}

async function createTenant(bench: Bench, slug: string): Promise<string> {
  const response = await api(bench, '/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
  });
  if (response.status !== 202) throw new Error(`create tenant: ${await response.text()}`);
  const tenant = (await response.json()) as { metadata: { uid: string } };
  // Provisioning uses the CPU: let it finish before anything is timed.
  await waitFor(
    async () => {
      const current = await api(bench, `/api/v1/tenants/${slug}`);
      const view = (await current.json()) as { status: { phase: string } };
      return view.status.phase === 'Ready' ? true : undefined;
    },
    { timeoutMs: 180_000, description: `tenant ${slug} to be Ready` },
  );
  return tenant.metadata.uid;
}

function report(result: Awaited<ReturnType<typeof measure>> & Record<string, unknown>): string {
  const lines = result.filters.map(
    (row) =>
      `  ${row.filter.padEnd(48)} p50 ${String(row.p50Ms)} ms, p95 ${String(row.p95Ms)} ms, p99 ${String(row.p99Ms)} ms (${String(row.requests)} requests, median totalResults ${String(row.medianTotalResults)})`,
  );
  const { overall } = result;
  return [
    `users: ${String(result.users)} (${String(result.inserted)} via SQL in ${String(result.insertMs)} ms, ${String(result.posted)} via SCIM POST: p50 ${String(result.postP50Ms)} ms, p95 ${String(result.postP95Ms)} ms)`,
    `GET /scim/v2/Users?count=100&filter=…, one at a time:`,
    ...lines,
    `  all: p50 ${String(overall.p50Ms)} ms, p95 ${String(overall.p95Ms)} ms, p99 ${String(overall.p99Ms)} ms over ${String(overall.requests)} requests`,
    `goal p95 <= 50 ms: ${overall.p95Ms <= 50 ? 'met' : 'not met'}`,
    `machine: ${String(result.machine)}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const postgres = await startTestPostgres();
  const databaseUrl = await postgres.createDatabase('scim_bench');
  const platform = await startPlatformProcess({
    env: {
      CITADEL_ADMIN_TOKEN: token,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'info',
      // The benchmark measures latency, not the per-token limit (600 requests a minute).
      CITADEL_RATE_LIMIT_SCIM_PER_MINUTE: '1000000',
      CITADEL_RATE_LIMIT_SCIM_PER_IP_PER_MINUTE: '1000000',
    },
    startTimeoutMs: 180_000,
  });
  try {
    const bench: Bench = { url: platform.url, scimToken: '' };
    const tenantId = await createTenant(bench, 'scim-bench');
    const issued = await api(bench, '/api/v1/tenants/scim-bench/scim-tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'bench' }),
    });
    bench.scimToken = ((await issued.json()) as { token: string }).token;
    const inserted = Math.max(0, userCount - postedCount);
    const insertStarted = performance.now();
    await insertUsers(databaseUrl, tenantId, 0, inserted);
    const insertMs = Math.round(performance.now() - insertStarted);
    const posts = await postUsers(bench, inserted, userCount);
    const listed = await scimGet(bench, '/Users?count=1');
    const total = (listed.body as { totalResults: number }).totalResults;
    if (total !== userCount)
      throw new Error(`expected ${String(userCount)} users, found ${String(total)}`);
    const result = {
      users: userCount,
      inserted,
      insertMs,
      posted: posts.length,
      postP50Ms: round(percentile(posts, 0.5)),
      postP95Ms: round(percentile(posts, 0.95)),
      ...(await measure(bench)),
      machine: `${String(os.cpus().length)} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${String(Math.round(os.totalmem() / 2 ** 20))} MiB, ${process.version}, ${postgres.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL server'}`,
    };
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : report(result));
  } finally {
    await platform.stop('SIGTERM');
    const [setting] = await queryRows<{ value: string }>(
      databaseUrl,
      "SELECT value FROM platform_settings WHERE key = 'instance_id'",
    ).catch(() => []);
    if (setting) await dropPlatformResources(postgres.url, setting.value);
    await postgres.stop();
    await rm(platform.dataDir, { recursive: true, force: true });
  }
}

await main();
