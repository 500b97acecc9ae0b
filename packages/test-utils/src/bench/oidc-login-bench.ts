/**
 * `npm run bench:oidc [-- --logins 200 --concurrency 8 --accounts 20 --json]`: starts the
 * platform as `npm start` does, on a fresh database (of the `DATABASE_URL` server, or an
 * embedded PostgreSQL), and a real OpenID provider (`oidc-provider`) on loopback in a process
 * of its own, creates a tenant with an SSO connection to it, then times full browser logins:
 *
 *   GET /sso/t/{slug}/login → the provider's authorize endpoint → its login and consent
 *   forms, submitted as a browser would (redirects followed by hand, one cookie jar per login)
 *   → GET /sso/callback (the platform redeems the code and reads userinfo) → the session
 *   cookie → GET /sso/t/{slug}/session, which must name the user.
 *
 * It reports p50/p95/p99 and throughput one login at a time and then `--concurrency` at once,
 * with each step's latency, the provider's own time per login (browser pages and the
 * back-channel token/userinfo calls, timed inside its process) and the CPU each process used.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dropPlatformResources } from '../drop-platform-resources.ts';
import {
  authorizeAtIdp,
  CookieJar,
  startOidcTestProvider,
  type ServedRequest,
  type TestAccount,
} from '../oidc-test-provider.ts';
import { startPlatformProcess } from '../platform-process.ts';
import { queryRows } from '../query-rows.ts';
import { startTestPostgres } from '../test-postgres.ts';
import { waitFor } from '../wait-for.ts';
import { sampleProcessTree, type ProcessTreeSample } from './process-tree-stats.ts';
import { percentile } from './percentile.ts';

const { values } = parseArgs({
  options: {
    logins: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
    accounts: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
    // Internal: this file run as the provider's process (see startProviderProcess).
    'serve-provider': { type: 'boolean', default: false },
    'redirect-uri': { type: 'string', default: '' },
  },
});
const loginCount = Number(values.logins);
const concurrency = Number(values.concurrency);
const accountCount = Number(values.accounts);
const token = 'bench-admin-token-0123456789abcdef';
const SLUG = 'oidc-bench';
const CLIENT_ID = 'citadel-bench';
const CLIENT_SECRET = 'bench-client-secret-0123456789abcdef';
/** Provider endpoints the platform calls itself; every other request is a browser page. */
const BACK_CHANNEL = new Set(['/token', '/me', '/jwks', '/.well-known/openid-configuration']);

const round = (value: number) => Math.round(value * 10) / 10;

/** `user-0` … `user-{n-1}`; every fifth is in `admins`, everyone in `engineers`. */
function benchAccounts(count: number): Record<string, TestAccount> {
  return Object.fromEntries(
    Array.from({ length: count }, (_unused, index) => [
      `user-${String(index)}`,
      {
        email: `user${String(index)}@bench.example`,
        name: `Bench User ${String(index)}`,
        groups: index % 5 === 0 ? ['engineers', 'admins'] : ['engineers'],
      },
    ]),
  );
}

/** The provider's time since the last report: server time per request kind, and its CPU. */
interface ProviderStats {
  browser: { requests: number; milliseconds: number };
  backChannel: { requests: number; milliseconds: number };
  cpuSeconds: number;
}

type ProviderMessage = { type: 'ready'; issuer: string } | { type: 'stats'; stats: ProviderStats };

/**
 * The provider's process: runs `oidc-provider`, times every request it serves, and answers
 * `stats` (then starts counting afresh) until told to `stop`.
 */
async function serveProvider(redirectUri: string): Promise<void> {
  const fresh = (): ProviderStats => ({
    browser: { requests: 0, milliseconds: 0 },
    backChannel: { requests: 0, milliseconds: 0 },
    cpuSeconds: 0,
  });
  let stats = fresh();
  let cpuSince = process.cpuUsage();
  const provider = await startOidcTestProvider(
    { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri },
    benchAccounts(accountCount),
    {
      onServed: (request: ServedRequest) => {
        const kind = BACK_CHANNEL.has(request.path) ? stats.backChannel : stats.browser;
        kind.requests += 1;
        kind.milliseconds += request.milliseconds;
      },
    },
  );
  process.on('message', (command: string) => {
    if (command === 'stats') {
      const cpu = process.cpuUsage(cpuSince);
      const report: ProviderMessage = {
        type: 'stats',
        stats: { ...stats, cpuSeconds: (cpu.user + cpu.system) / 1e6 },
      };
      stats = fresh();
      cpuSince = process.cpuUsage();
      process.send?.(report);
    } else if (command === 'stop') {
      void provider.close().then(() => process.disconnect());
    }
  });
  process.send?.({ type: 'ready', issuer: provider.issuer } satisfies ProviderMessage);
}

interface ProviderProcess {
  issuer: string;
  pid: number;
  /** What the provider did since the previous call. */
  takeStats(): Promise<ProviderStats>;
  stop(): Promise<void>;
}

/** Forks this file as the provider's process, so its CPU and latency are its own. */
async function startProviderProcess(redirectUri: string): Promise<ProviderProcess> {
  const child: ChildProcess = fork(
    fileURLToPath(import.meta.url),
    ['--serve-provider', '--redirect-uri', redirectUri, '--accounts', String(accountCount)],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  const next = <T extends ProviderMessage['type']>(type: T) =>
    new Promise<Extract<ProviderMessage, { type: T }>>((resolve, reject) => {
      const onExit = () => reject(new Error('the provider process exited'));
      child.once('exit', onExit);
      const onMessage = (message: ProviderMessage) => {
        if (message.type !== type) return;
        child.off('message', onMessage).off('exit', onExit);
        resolve(message as Extract<ProviderMessage, { type: T }>);
      };
      child.on('message', onMessage);
    });
  const { issuer } = await next('ready');
  return {
    issuer,
    pid: child.pid ?? 0,
    async takeStats() {
      const reply = next('stats');
      child.send('stats');
      return (await reply).stats;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await exited;
    },
  };
}

interface Bench {
  url: string;
  embeddedPostgres: boolean;
  loginPath: string;
  platformPid: number;
  provider: ProviderProcess;
}

async function api(bench: Pick<Bench, 'url'>, path: string, init: RequestInit = {}) {
  return fetch(`${bench.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
}

/** One login's steps as the browser saw them, in milliseconds. */
interface LoginTiming {
  start: number;
  identityProvider: number;
  callback: number;
  session: number;
  total: number;
}

/** One full browser login in a fresh cookie jar, checked to end in a session of `account`. */
async function login(bench: Bench, account: string): Promise<LoginTiming> {
  const jar = new CookieJar();
  const began = performance.now();
  const started = await jar.fetch(`${bench.url}${bench.loginPath}`);
  const authorizationUrl = started.headers.get('location');
  if (started.status !== 302 || authorizationUrl === null)
    throw new Error(`login start: ${String(started.status)} ${await started.text()}`);
  const atProvider = performance.now();
  const callbackUrl = await authorizeAtIdp(jar, authorizationUrl, account);
  const atCallback = performance.now();
  const callback = await jar.fetch(callbackUrl);
  await callback.arrayBuffer();
  if (callback.status !== 302) throw new Error(`callback: ${String(callback.status)}`);
  const atSession = performance.now();
  const session = await jar.fetch(`${bench.url}/sso/t/${SLUG}/session`);
  const user = (await session.json()) as { userName?: string };
  if (session.status !== 200 || user.userName !== `${account.replace('-', '')}@bench.example`)
    throw new Error(`session: ${String(session.status)} ${JSON.stringify(user)}`);
  const ended = performance.now();
  return {
    start: atProvider - began,
    identityProvider: atCallback - atProvider,
    callback: atSession - atCallback,
    session: ended - atSession,
    total: ended - began,
  };
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50Ms: round(percentile(sorted, 0.5)),
    p95Ms: round(percentile(sorted, 0.95)),
    p99Ms: round(percentile(sorted, 0.99)),
  };
}

/** CPU seconds of the control plane, and of an embedded PostgreSQL (a child of this process). */
interface CpuSample {
  platform: ProcessTreeSample;
  bench: ProcessTreeSample;
}

async function sampleCpu(bench: Bench): Promise<CpuSample> {
  const [platform, own] = await Promise.all([
    sampleProcessTree(bench.platformPid),
    sampleProcessTree(process.pid),
  ]);
  return { platform, bench: own };
}

const cpuDelta = (after: CpuSample, before: CpuSample) => ({
  controlPlane:
    after.platform.cpuSecondsByGroup['control plane'] -
    before.platform.cpuSecondsByGroup['control plane'],
  postgres: after.bench.cpuSecondsByGroup.postgres - before.bench.cpuSecondsByGroup.postgres,
});

/** Runs `logins` logins, `workers` at a time, cycling through the accounts. */
async function runPhase(bench: Bench, logins: number, workers: number) {
  const accounts = Object.keys(benchAccounts(accountCount));
  await bench.provider.takeStats();
  const platformBefore = await sampleCpu(bench);
  const clientBefore = process.cpuUsage();
  const timings: LoginTiming[] = [];
  let next = 0;
  const began = performance.now();
  const worker = async () => {
    for (let index = next++; index < logins; index = next++) {
      timings.push(await login(bench, accounts[index % accounts.length] ?? 'user-0'));
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  const wallMs = performance.now() - began;
  const client = process.cpuUsage(clientBefore);
  const platform = cpuDelta(await sampleCpu(bench), platformBefore);
  const provider = await bench.provider.takeStats();
  const perLogin = (total: number) => round(total / logins);
  const step = (name: keyof LoginTiming) => summary(timings.map((timing) => timing[name]));
  return {
    concurrency: workers,
    logins,
    wallSeconds: round(wallMs / 1000),
    loginsPerSecond: round(logins / (wallMs / 1000)),
    total: step('total'),
    steps: {
      start: step('start'),
      identityProvider: step('identityProvider'),
      callback: step('callback'),
      session: step('session'),
    },
    providerServerMsPerLogin: {
      browser: perLogin(provider.browser.milliseconds),
      backChannel: perLogin(provider.backChannel.milliseconds),
      requests: round((provider.browser.requests + provider.backChannel.requests) / logins),
    },
    cpuMsPerLogin: {
      controlPlane: perLogin(platform.controlPlane * 1000),
      // A DATABASE_URL server is no child of this process: its CPU is not seen.
      postgres: bench.embeddedPostgres ? perLogin(platform.postgres * 1000) : undefined,
      provider: perLogin(provider.cpuSeconds * 1000),
      benchClient: perLogin((client.user + client.system) / 1000),
    },
  };
}

type PhaseResult = Awaited<ReturnType<typeof runPhase>>;

function reportPhase(phase: PhaseResult): string[] {
  const ms = (value: { p50Ms: number; p95Ms: number; p99Ms: number }) =>
    `p50 ${String(value.p50Ms)} ms, p95 ${String(value.p95Ms)} ms, p99 ${String(value.p99Ms)} ms`;
  const { steps, providerServerMsPerLogin: provider, cpuMsPerLogin: cpu } = phase;
  return [
    `${String(phase.logins)} logins, ${String(phase.concurrency)} at a time: ${String(phase.wallSeconds)} s, ${String(phase.loginsPerSecond)} logins/s`,
    `  full round trip          ${ms(phase.total)}`,
    `  GET /sso/t/…/login       ${ms(steps.start)}`,
    `  at the provider          ${ms(steps.identityProvider)}`,
    `  GET /sso/callback        ${ms(steps.callback)}`,
    `  GET /sso/t/…/session     ${ms(steps.session)}`,
    `  provider server time per login: browser pages ${String(provider.browser)} ms, back channel (token, userinfo) ${String(provider.backChannel)} ms, ${String(provider.requests)} requests`,
    `  CPU per login: control plane ${String(cpu.controlPlane)} ms, PostgreSQL ${cpu.postgres === undefined ? 'not measured (DATABASE_URL server)' : `${String(cpu.postgres)} ms`}, provider ${String(cpu.provider)} ms, bench client ${String(cpu.benchClient)} ms`,
  ];
}

async function createTenant(bench: Pick<Bench, 'url'>): Promise<void> {
  const response = await api(bench, '/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ slug: SLUG, displayName: SLUG, plan: 'starter' }),
  });
  if (response.status !== 202) throw new Error(`create tenant: ${await response.text()}`);
  // Provisioning uses the CPU, and the client secret needs the tenant's data key.
  await waitFor(
    async () => {
      const current = await api(bench, `/api/v1/tenants/${SLUG}`);
      const view = (await current.json()) as { status: { phase: string } };
      return view.status.phase === 'Ready' ? true : undefined;
    },
    { timeoutMs: 180_000, description: `tenant ${SLUG} to be Ready` },
  );
}

async function createConnection(bench: Pick<Bench, 'url'>, issuer: string): Promise<string> {
  const response = await api(bench, `/api/v1/tenants/${SLUG}/sso-connections`, {
    method: 'POST',
    body: JSON.stringify({
      name: 'bench-idp',
      issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: ['openid', 'email', 'profile', 'groups'],
      groupRoles: { admins: 'admin', engineers: 'member' },
      allowedEmailDomains: ['bench.example'],
    }),
  });
  if (response.status !== 201) throw new Error(`create connection: ${await response.text()}`);
  return ((await response.json()) as { loginUrl: string }).loginUrl;
}

async function measure(bench: Bench) {
  // Warm-up: discovery and JWKS caches, JIT, pools; every account logs in once, so the
  // measured logins are returning users (roles updated, no user created).
  await runPhase(bench, Math.max(accountCount, 20), 1);
  const sequential = await runPhase(bench, loginCount, 1);
  const concurrent = await runPhase(bench, loginCount, concurrency);
  return { sequential, concurrent };
}

async function main(): Promise<void> {
  const postgres = await startTestPostgres();
  const databaseUrl = await postgres.createDatabase('oidc_bench');
  const platform = await startPlatformProcess({
    env: {
      CITADEL_ADMIN_TOKEN: token,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'info',
      // The benchmark measures latency, not the login limits (30 a minute per address).
      CITADEL_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: '1000000',
      CITADEL_RATE_LIMIT_LOGIN_PER_TENANT_PER_MINUTE: '1000000',
    },
    startTimeoutMs: 180_000,
  });
  let provider: ProviderProcess | undefined;
  try {
    await createTenant(platform);
    provider = await startProviderProcess(`${platform.url}/sso/callback`);
    const bench: Bench = {
      url: platform.url,
      embeddedPostgres: postgres.embedded,
      loginPath: await createConnection(platform, provider.issuer),
      platformPid: platform.child.pid ?? 0,
      provider,
    };
    const result = {
      ...(await measure(bench)),
      accounts: accountCount,
      machine: `${String(os.cpus().length)} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${String(Math.round(os.totalmem() / 2 ** 20))} MiB, ${process.version}, ${postgres.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL server'}`,
    };
    const text = [
      ...reportPhase(result.sequential),
      ...reportPhase(result.concurrent),
      `machine: ${result.machine}`,
      '',
    ].join('\n');
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : text);
  } finally {
    await provider?.stop();
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

if (values['serve-provider']) await serveProvider(values['redirect-uri']);
else await main();
