import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultTenantSpec, findPlan } from '@citadel/contracts';
import { tenantDataKeysValue } from '@citadel/tenant-templates';
import { startTestPostgres, type TestPostgres } from '@citadel/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileAction } from '../src/core/reconcile-action.ts';
import type { TenantRef } from '../src/core/tenant-drivers.ts';
import { readTenantDataCipher } from '../../data-plane/runtime/src/tenant-data-cipher.ts';
import { createLocalKeyRing, type LocalKeyRing } from '../src/drivers/local/local-key-ring.ts';
import { localTenantNames } from '../src/drivers/local/local-tenant-names.ts';
import {
  createLocalTenantDrivers,
  type LocalTenantDrivers,
} from '../src/drivers/local/local-tenant-drivers.ts';
import {
  hostEnvironmentFor,
  tenantDatabaseUrl,
} from '../src/drivers/local/local-services-driver.ts';
import {
  createTenantDatabaseCredentials,
  type TenantDatabaseCredentials,
  type TenantDatabaseLogin,
} from '../src/drivers/local/tenant-database-credentials.ts';
import { withUnwrappedKeySet } from '../src/drivers/local/tenant-data-keys.ts';
import { createPgTenantSecretStore, type PgTenantSecretStore } from './pg-tenant-secret-store.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const HOST_ENTRY = resolve(HERE, '../../data-plane/runtime/src/host-main.ts');
const PARENT_FIXTURE = resolve(HERE, 'fixtures/host-supervisor-parent.ts');
let adminConnection: { host: string; port: number };

const instanceId = randomBytes(6).toString('hex').slice(0, 6);
let postgres: TestPostgres;
let adminPool: pg.Pool;
let secretsPool: pg.Pool;
let dataDir: string;
let secrets: PgTenantSecretStore;
let local: LocalTenantDrivers;
let credentials: TenantDatabaseCredentials;
let keyRing: LocalKeyRing;
const logged: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
const timings = new Map<string, number[]>();
let slugCounter = 0;

function newTenant(plan = 'starter'): TenantRef {
  slugCounter += 1;
  const slug = `acme-${slugCounter}`;
  const planDefinition = findPlan(plan);
  if (!planDefinition) throw new Error(`no plan ${plan}`);
  return {
    uid: randomUUID(),
    slug,
    spec: defaultTenantSpec({
      slug,
      displayName: `Acme ${slugCounter}`,
      plan: planDefinition,
      region: 'local',
    }),
  };
}

async function apply(tenant: TenantRef, action: ReconcileAction): Promise<void> {
  const started = performance.now();
  const { drivers } = local;
  switch (action.component) {
    case 'namespace':
      await drivers.namespace.apply(tenant, action);
      break;
    case 'keys':
      await drivers.keys.apply(tenant, action);
      break;
    case 'database':
      await drivers.database.apply(tenant, action);
      break;
    case 'vectorStore':
      await drivers.vectorStore.apply(tenant, action);
      break;
    case 'services':
      await drivers.services.apply(tenant, action);
      break;
    case 'gpuPool':
      await drivers.gpuPool.apply(tenant, action);
      break;
  }
  const key =
    'version' in action
      ? `${action.component} ${action.type}`
      : `${action.component} ${action.type}`;
  timings.set(key, [...(timings.get(key) ?? []), performance.now() - started]);
}

/** The planner's order for a new tenant. */
const PROVISION: ReconcileAction[] = [
  { component: 'namespace', type: 'ensure' },
  { component: 'keys', type: 'create-version', version: 1 },
  { component: 'database', type: 'ensure-role' },
  { component: 'database', type: 'ensure-database' },
  { component: 'database', type: 'revoke-public-connect' },
  { component: 'vectorStore', type: 'ensure' },
  { component: 'gpuPool', type: 'ensure' },
  { component: 'services', type: 'start' },
];

const REMOVE: ReconcileAction[] = [
  { component: 'services', type: 'stop' },
  { component: 'gpuPool', type: 'remove' },
  { component: 'database', type: 'remove' },
  { component: 'keys', type: 'remove' },
  { component: 'namespace', type: 'remove' },
];

async function provision(tenant: TenantRef, actions = PROVISION): Promise<void> {
  for (const action of actions) await apply(tenant, action);
}

async function observeAll(tenant: TenantRef) {
  const { drivers } = local;
  const [namespace, keys, database, vectorStore, services, gpuPool] = await Promise.all([
    drivers.namespace.observe(tenant),
    drivers.keys.observe(tenant),
    drivers.database.observe(tenant),
    drivers.vectorStore.observe(tenant),
    drivers.services.observe(tenant),
    drivers.gpuPool.observe(tenant),
  ]);
  return { namespace, keys, database, vectorStore, services, gpuPool };
}

async function connectAsTenant(tenant: TenantRef, databaseName?: string): Promise<pg.Client> {
  const login = await credentials.read(tenant.uid);
  if (!login) throw new Error(`no credentials for ${tenant.slug}`);
  const client = new pg.Client({
    ...adminConnection,
    user: login.roleName,
    password: login.password,
    database: databaseName ?? login.databaseName,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function connectError(tenant: TenantRef, databaseName?: string): Promise<pg.DatabaseError> {
  const error = await connectAsTenant(tenant, databaseName).then(
    async (client) => {
      await client.end();
      return undefined;
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(pg.DatabaseError);
  return error as pg.DatabaseError;
}

/** The environment the services driver gives the tenant's host, for hosts started by hand. */
async function hostEnvironmentOf(tenant: TenantRef, login: TenantDatabaseLogin) {
  return hostEnvironmentFor(tenant, {
    databaseUrl: tenantDatabaseUrl(adminConnection, login),
    dataKeys: await withUnwrappedKeySet(local.dataKeys, tenant.uid, tenantDataKeysValue),
  });
}

/** The host's `/healthz` body (the runtime's `HostHealth`, which operators does not depend on). */
interface HealthBody {
  status: 'ok' | 'degraded';
  tenant: { slug: string; id: string };
  database: { connected: boolean; user?: string; database?: string };
  services: { enabled: string[]; deployed: string[] };
}

async function healthOf(endpoint: string | undefined) {
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await fetch(`${endpoint}/healthz`);
  return { status: response.status, body: (await response.json()) as HealthBody };
}

async function hostPid(tenant: TenantRef): Promise<number> {
  const text = await readFile(join(dataDir, 'tenants', tenant.slug, 'host.pid'), 'utf8');
  return Number(text.trim());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}

/** Pids of live processes whose environment names tenant `slug` (from /proc). */
async function processesOf(slug: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environment = await readFile(`/proc/${entry}/environ`, 'utf8');
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      if (environment.split('\0').includes(`CITADEL_TENANT_SLUG=${slug}`)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** The environment a live process was started with (from /proc). */
async function environmentOf(pid: number): Promise<Record<string, string>> {
  const text = await readFile(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    text
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

/** The tenant's data keys as the key ring unwraps them, base64 by version. */
async function unwrappedKeys(tenant: TenantRef): Promise<Record<string, string>> {
  const stored = await secrets.listDataKeys(tenant.uid);
  return Object.fromEntries(
    stored.map(({ version, wrappedKey }) => [
      String(version),
      keyRing.unwrap(wrappedKey).toString('base64'),
    ]),
  );
}

/** What exists for a tenant, as listed by the server, the store, the disk and /proc. */
async function leftovers(tenant: TenantRef) {
  const names = localTenantNames(instanceId, tenant.slug);
  const databases = await adminPool.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE datname = $1',
    [names.databaseName],
  );
  const roles = await adminPool.query<{ rolname: string }>(
    'SELECT rolname FROM pg_roles WHERE rolname = $1',
    [names.roleName],
  );
  const directoryExists = await stat(join(dataDir, 'tenants', tenant.slug)).then(
    () => true,
    () => false,
  );
  return {
    databases: databases.rows.map((row) => row.datname),
    roles: roles.rows.map((row) => row.rolname),
    secretRows: await secrets.countRows(tenant.uid),
    directoryExists,
    processes: await processesOf(tenant.slug),
  };
}

/** Everything an action could change, down to row versions (xmin). */
async function snapshot(tenant: TenantRef) {
  const names = localTenantNames(instanceId, tenant.slug);
  const server = await adminPool.query(
    `SELECT a.rolcanlogin, a.rolconnlimit, a.rolpassword, a.xmin::text AS role_version,
            pg_get_userbyid(d.datdba) AS owner, d.datacl::text AS acl, d.xmin::text AS database_version
       FROM pg_authid a JOIN pg_database d ON d.datname = $2 WHERE a.rolname = $1`,
    [names.roleName, names.databaseName],
  );
  const tenantDatabase = await connectAsTenant(tenant);
  try {
    const inside = await tenantDatabase.query(
      `SELECT n.nspname, pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text AS acl, n.xmin::text AS version
         FROM pg_namespace n WHERE n.nspname IN ('public', 'vectors') ORDER BY 1`,
    );
    return {
      server: server.rows,
      schemas: inside.rows,
      keys: await secrets.listDataKeys(tenant.uid),
      credentials: await secrets.getDatabaseCredentials(tenant.uid),
      directoryMode: (await stat(join(dataDir, 'tenants', tenant.slug))).mode,
      hostPid: await hostPid(tenant),
      services: await local.drivers.services.observe(tenant),
    };
  } finally {
    await tenantDatabase.end();
  }
}

/** The role's password is stored only as ciphertext, and the server holds only a verifier. */
async function expectPasswordKeptSecret(tenant: TenantRef): Promise<void> {
  const names = localTenantNames(instanceId, tenant.slug);
  const stored = await secrets.getDatabaseCredentials(tenant.uid);
  const login = await credentials.read(tenant.uid);
  expect(stored).toMatchObject({
    databaseName: names.databaseName,
    roleName: names.roleName,
    keyVersion: 1,
  });
  expect(login?.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(stored?.passwordCiphertext.includes(Buffer.from(login?.password ?? ''))).toBe(false);
  expect(stored?.passwordCiphertext.subarray(0, 2)).toEqual(Buffer.from([0x45, 0x01]));
  const authid = await adminPool.query<{ rolpassword: string }>(
    'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
    [names.roleName],
  );
  expect(authid.rows[0]?.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
}

beforeAll(async () => {
  // DATABASE_URL's server when set, else an embedded PostgreSQL 18 (the platform's default).
  postgres = await startTestPostgres();
  const adminUrl = new URL(postgres.url);
  adminConnection = { host: adminUrl.hostname, port: Number(adminUrl.port || 5432) };
  // As small as the control plane's, so that a pool-exhaustion deadlock would show here.
  adminPool = new pg.Pool({ connectionString: postgres.url, max: 8 });
  adminPool.on('error', () => undefined);
  dataDir = await mkdtemp(join(tmpdir(), 'citadel-local-drivers-'));
  // Its own pool, as the control plane's Prisma store has: the drivers hold an admin client
  // while they call the store.
  secretsPool = new pg.Pool({
    connectionString: await postgres.createDatabase('secrets'),
    max: 10,
  });
  secretsPool.on('error', () => undefined);
  secrets = createPgTenantSecretStore(secretsPool, `citadel_test_${instanceId}`);
  await secrets.migrate();
  keyRing = await createLocalKeyRing({ dataDir });
  local = createLocalTenantDrivers({
    adminPool,
    adminConnection,
    instanceId,
    dataDir,
    keyRing,
    secrets,
    hostEntry: HOST_ENTRY,
    logger: {
      info: (fields, message) => logged.push({ level: 'info', fields, message }),
      warn: (fields, message) => logged.push({ level: 'warn', fields, message }),
      error: (fields, message) => logged.push({ level: 'error', fields, message }),
    },
    supervision: { stopTimeoutMs: 2_000 },
    // The control plane's part of deletion exports; exports are tested in
    // tenant-reconciler.test.ts, tenant-database-dump.test.ts and the platform's tests.
    exportSources: {
      describeTenant: () => Promise.reject(new Error('not exported in these tests')),
      exportAuditLog: () => Promise.reject(new Error('not exported in these tests')),
    },
  });
  credentials = createTenantDatabaseCredentials({ secrets, dataKeys: local.dataKeys });
}, 120_000);

afterAll(async () => {
  await local.services.stopAll();
  // Whatever a failed test left: every database and role of this test instance.
  const prefix = `citadel\\_${instanceId}\\_%`;
  const databases = await adminPool.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE datname LIKE $1',
    [prefix],
  );
  for (const row of databases.rows) {
    await adminPool.query(
      `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(row.datname)} WITH (FORCE)`,
    );
  }
  const roles = await adminPool.query<{ rolname: string }>(
    'SELECT rolname FROM pg_roles WHERE rolname LIKE $1',
    [prefix],
  );
  for (const row of roles.rows)
    await adminPool.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(row.rolname)}`);
  await secrets.drop();
  await secretsPool.end();
  await adminPool.end();
  await postgres.stop();
  await rm(dataDir, { recursive: true, force: true });
  const summary = [...timings].map(([action, samples]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    return `${action.padEnd(36)} n=${String(samples.length).padStart(3)} median=${median.toFixed(1)}ms max=${(sorted.at(-1) ?? 0).toFixed(1)}ms`;
  });
  console.log(`local driver action timings:\n${summary.join('\n')}`);
});

describe('local tenant drivers', () => {
  it(
    'provisions a tenant whose role reaches its own database and no other',
    { timeout: 30_000 },
    async () => {
      const first = newTenant();
      const second = newTenant();
      await Promise.all([provision(first), provision(second)]);

      const observed = await observeAll(first);
      expect(observed).toMatchObject({
        namespace: { exists: true },
        keys: { versions: [{ version: 1, active: true }] },
        database: {
          roleExists: true,
          credentialsStored: true,
          databaseExists: true,
          publicConnectRevoked: true,
          loginAllowed: true,
        },
        vectorStore: { ready: true },
        services: { state: 'running', restarts: 0, lastError: undefined },
        gpuPool: { available: false, ready: false, reason: 'NotRequested' },
      });
      const pgvector = await adminPool.query(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'",
      );
      expect(observed.vectorStore.engine).toBe(pgvector.rowCount ? 'pgvector' : 'exact');

      const names = localTenantNames(instanceId, first.slug);
      const own = await connectAsTenant(first);
      const { rows } = await own.query('SELECT current_user, current_database()');
      expect(rows[0]).toEqual({
        current_user: names.roleName,
        current_database: names.databaseName,
      });
      // The tenant may create its tables in its own schemas, vectors included; PUBLIC may not.
      await own.query('CREATE TABLE vectors.items (id int)');
      const publicCreate = await own.query<{ allowed: boolean }>(
        "SELECT has_schema_privilege('public', 'public', 'CREATE') AS allowed",
      );
      expect(publicCreate.rows[0]?.allowed).toBe(false);
      await own.end();

      const intrusion = await connectError(second, names.databaseName);
      expect(intrusion.code).toBe('42501');
      expect(intrusion.message).toMatch(/permission denied for database/);

      await expectPasswordKeptSecret(first);

      const health = await healthOf(observed.services.endpoint);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({
        status: 'ok',
        tenant: { slug: first.slug, id: first.uid },
        database: { connected: true, user: names.roleName, database: names.databaseName },
      });
      expect(local.services.resolveEndpoint(first.slug)).toBe(observed.services.endpoint);

      for (const tenant of [first, second]) {
        for (const action of REMOVE) await apply(tenant, action);
      }
    },
  );

  it(
    'changes nothing when every action is applied a second time',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant();
      await provision(tenant);
      const before = await snapshot(tenant);
      await provision(tenant);
      await apply(tenant, { component: 'database', type: 'allow-login' });
      const after = await snapshot(tenant);
      expect(after).toEqual(before);
      for (const action of REMOVE) await apply(tenant, action);
    },
  );

  it(
    'converges from a crash between storing the password and creating the role',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant();
      const names = localTenantNames(instanceId, tenant.slug);
      await provision(tenant, PROVISION.slice(0, 2));
      // The first statement of ensure-role ran, the process died before CREATE ROLE.
      await credentials.store(tenant.uid, { ...names, password: 'stored-before-the-crash' });
      await apply(tenant, { component: 'database', type: 'ensure-role' });
      await provision(tenant, PROVISION.slice(3, 5));
      const client = await connectAsTenant(tenant);
      await client.end();
      expect((await credentials.read(tenant.uid))?.password).toBe('stored-before-the-crash');

      // A role whose stored password is lost (e.g. a restored control-plane backup) gets a new one.
      await secrets.deleteDatabaseCredentials(tenant.uid);
      await apply(tenant, { component: 'database', type: 'ensure-role' });
      expect((await credentials.read(tenant.uid))?.password).not.toBe('stored-before-the-crash');
      await (await connectAsTenant(tenant)).end();
      for (const action of REMOVE) await apply(tenant, action);
    },
  );

  it('creates many tenant databases concurrently', { timeout: 60_000 }, async () => {
    const tenants = Array.from({ length: 12 }, () => newTenant());
    const started = performance.now();
    await Promise.all(tenants.map((tenant) => provision(tenant, PROVISION.slice(0, 6))));
    const elapsed = performance.now() - started;
    // The same tenant's database requested twice at once still ends as one database.
    const [twice] = tenants;
    if (!twice) throw new Error('no tenant');
    await Promise.all([
      apply(twice, { component: 'database', type: 'ensure-database' }),
      apply(twice, { component: 'database', type: 'ensure-database' }),
      apply(twice, { component: 'database', type: 'ensure-role' }),
      apply(twice, { component: 'database', type: 'ensure-role' }),
    ]);
    for (const tenant of tenants) {
      expect((await observeAll(tenant)).database).toMatchObject({
        databaseExists: true,
        publicConnectRevoked: true,
        roleExists: true,
        credentialsStored: true,
      });
    }
    await (await connectAsTenant(twice)).end();
    console.log(`12 tenants' namespace..vectorStore concurrently: ${elapsed.toFixed(0)} ms`);
    await Promise.all(
      tenants.map(async (tenant) => {
        for (const action of REMOVE) await apply(tenant, action);
      }),
    );
  });

  it(
    'deny-login ends open sessions and blocks new ones; allow-login restores access',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant();
      await provision(tenant, PROVISION.slice(0, 5));
      const open = await connectAsTenant(tenant);
      await apply(tenant, { component: 'database', type: 'deny-login' });
      await apply(tenant, { component: 'database', type: 'deny-login' });
      await expect(open.query('SELECT 1')).rejects.toThrow();
      await open.end().catch(() => undefined);
      const denied = await connectError(tenant);
      expect(denied.code).toBe('28000');
      expect((await local.drivers.database.observe(tenant)).loginAllowed).toBe(false);

      await apply(tenant, { component: 'database', type: 'allow-login' });
      expect((await local.drivers.database.observe(tenant)).loginAllowed).toBe(true);
      await (await connectAsTenant(tenant)).end();
      for (const action of REMOVE) await apply(tenant, action);
    },
  );

  it('rotates data keys and keeps every older version readable', { timeout: 30_000 }, async () => {
    const tenant = newTenant();
    await provision(tenant, PROVISION.slice(0, 5));
    const secret = Buffer.from('a tenant secret');
    const old = await local.dataKeys.encryptWithActiveKey(tenant.uid, secret);
    expect(old.keyVersion).toBe(1);

    await apply(tenant, { component: 'keys', type: 'create-version', version: 2 });
    await apply(tenant, { component: 'keys', type: 'create-version', version: 2 });
    const { versions } = await local.drivers.keys.observe(tenant);
    expect(versions.map(({ version, active }) => ({ version, active }))).toEqual([
      { version: 1, active: false },
      { version: 2, active: true },
    ]);
    const current = await local.dataKeys.encryptWithActiveKey(tenant.uid, secret);
    expect(current.keyVersion).toBe(2);
    expect(await local.dataKeys.decryptWithTenantKey(tenant.uid, old.ciphertext, 1)).toEqual(
      secret,
    );
    expect(await local.dataKeys.decryptWithTenantKey(tenant.uid, current.ciphertext, 2)).toEqual(
      secret,
    );
    await expect(
      local.dataKeys.decryptWithTenantKey(tenant.uid, old.ciphertext, 2),
    ).rejects.toMatchObject({
      code: 'authentication-failed',
    });
    // The password encrypted under version 1 still works after rotation.
    await (await connectAsTenant(tenant)).end();
    // Another tenant's keys never decrypt this tenant's data.
    const other = newTenant();
    await apply(other, { component: 'keys', type: 'create-version', version: 1 });
    await expect(
      local.dataKeys.decryptWithTenantKey(other.uid, old.ciphertext, 1),
    ).rejects.toMatchObject({
      code: 'authentication-failed',
    });
    for (const action of REMOVE) await apply(tenant, action);
    await apply(other, { component: 'keys', type: 'remove' });
  });

  it('reports the GPU pool unavailable on a host without GPUs', async () => {
    const enterprise = newTenant('enterprise');
    expect(await local.drivers.gpuPool.observe(enterprise)).toMatchObject({
      available: false,
      ready: false,
      reason: 'NoGpuOnHost',
    });
    await apply(enterprise, { component: 'gpuPool', type: 'ensure' });
    expect((await local.drivers.gpuPool.observe(newTenant('starter'))).reason).toBe('NotRequested');
  });

  it(
    'removes every resource of a tenant and leaves nothing behind',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant();
      await provision(tenant);
      const pid = await hostPid(tenant);
      expect(await leftovers(tenant)).toMatchObject({
        databases: [localTenantNames(instanceId, tenant.slug).databaseName],
        directoryExists: true,
        processes: [pid],
      });
      // An open session of the tenant does not block removal.
      const open = await connectAsTenant(tenant);
      for (const action of REMOVE) await apply(tenant, action);
      await open.end().catch(() => undefined);
      expect(await leftovers(tenant)).toEqual({
        databases: [],
        roles: [],
        secretRows: { dataKeys: 0, credentials: 0 },
        directoryExists: false,
        processes: [],
      });
      // Removing again is a no-op, and observe reports everything absent.
      for (const action of REMOVE) await apply(tenant, action);
      expect(await observeAll(tenant)).toMatchObject({
        namespace: { exists: false },
        keys: { versions: [] },
        database: {
          roleExists: false,
          credentialsStored: false,
          databaseExists: false,
          loginAllowed: false,
        },
        vectorStore: { ready: false, engine: undefined },
        services: { state: 'stopped', endpoint: undefined },
      });
    },
  );
});

describe('local data-plane host supervision', () => {
  it(
    'starts a host that serves the tenant, restarts it after kill -9, and stops it',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant();
      const changes: string[] = [];
      const unsubscribe = local.services.onChange((slug, change) => {
        if (slug === tenant.slug) changes.push(change.state);
      });
      await provision(tenant);
      const first = await local.drivers.services.observe(tenant);
      expect(first).toMatchObject({ state: 'running', restarts: 0 });
      expect((await healthOf(first.endpoint)).body.tenant).toEqual({
        slug: tenant.slug,
        id: tenant.uid,
      });
      const log = await readFile(join(dataDir, 'tenants', tenant.slug, 'host.log'), 'utf8');
      expect(log).toContain('data-plane host listening');
      expect(log).not.toContain((await credentials.read(tenant.uid))?.password ?? 'no password');

      const pid = await hostPid(tenant);
      process.kill(pid, 'SIGKILL');
      const crashed = await waitFor(async () => {
        const observed = await local.drivers.services.observe(tenant);
        return observed.state !== 'running' ? observed : undefined;
      });
      expect(crashed.lastError).toMatch(/killed by SIGKILL/);
      const restarted = await waitFor(async () => {
        const observed = await local.drivers.services.observe(tenant);
        return observed.state === 'running' ? observed : undefined;
      });
      expect(restarted.restarts).toBe(1);
      expect(restarted.endpoint).not.toBe(first.endpoint);
      expect((await healthOf(restarted.endpoint)).body.status).toBe('ok');
      expect(await hostPid(tenant)).not.toBe(pid);
      expect(changes).toEqual(['starting', 'running', 'crashed', 'starting', 'running']);

      // Starting again while running changes nothing.
      await apply(tenant, { component: 'services', type: 'start' });
      expect(await local.drivers.services.observe(tenant)).toEqual(restarted);

      const newPid = await hostPid(tenant);
      await apply(tenant, { component: 'services', type: 'stop' });
      expect(isAlive(newPid)).toBe(false);
      expect(await local.drivers.services.observe(tenant)).toEqual({
        state: 'stopped',
        endpoint: undefined,
        restarts: 0,
        lastError: undefined,
      });
      expect(local.services.resolveEndpoint(tenant.slug)).toBeUndefined();
      expect(await processesOf(tenant.slug)).toEqual([]);
      unsubscribe();
      for (const action of REMOVE) await apply(tenant, action);
    },
  );

  it(
    'restarts the host when the tenant spec changes its services',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant();
      await provision(tenant);
      const before = await local.drivers.services.observe(tenant);
      const changed: TenantRef = { ...tenant, spec: { ...tenant.spec, services: ['library'] } };
      await apply(changed, { component: 'services', type: 'start' });
      const after = await local.drivers.services.observe(changed);
      expect(after.endpoint).not.toBe(before.endpoint);
      expect((await healthOf(after.endpoint)).body.services).toEqual({
        enabled: ['library'],
        deployed: ['library'],
      });
      for (const action of REMOVE) await apply(tenant, action);
    },
  );

  it('reports a host that cannot start, and backs off', { timeout: 30_000 }, async () => {
    const tenant = newTenant();
    await provision(tenant, PROVISION.slice(0, 5));
    // A service list the host refuses (the spec schema would not let it through): the host
    // exits at once and says why.
    const broken: TenantRef = {
      ...tenant,
      spec: { ...tenant.spec, services: ['Not A Service' as 'library'] },
    };
    await expect(apply(broken, { component: 'services', type: 'start' })).rejects.toThrow(
      /exited with code 78: .*CITADEL_SERVICES entry/,
    );
    const observed = await local.drivers.services.observe(broken);
    expect(observed.state).toMatch(/crashed|starting/);
    expect(observed.lastError).toMatch(/CITADEL_SERVICES entry/);
    const later = await waitFor(async () => {
      const current = await local.drivers.services.observe(broken);
      return current.restarts >= 2 ? current : undefined;
    });
    expect(later.state).not.toBe('running');
    // Starting again keeps supervising the same host (its restart count goes on), rejecting
    // if it is caught mid-restart and crashes again.
    await apply(broken, { component: 'services', type: 'start' }).catch(() => undefined);
    expect((await local.drivers.services.observe(broken)).restarts).toBeGreaterThanOrEqual(
      later.restarts,
    );
    for (const action of REMOVE) await apply(tenant, action);
    expect(await processesOf(tenant.slug)).toEqual([]);
  });

  it(
    'hands the host its plan and every data key, and starts it again after a rotation',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant('business');
      await provision(tenant);
      const firstPid = await hostPid(tenant);
      const first = await environmentOf(firstPid);
      expect(first.CITADEL_TENANT_PLAN).toBe('business');
      const keysBefore = await unwrappedKeys(tenant);
      expect(JSON.parse(first.CITADEL_TENANT_DATA_KEYS ?? '')).toEqual({
        active: 1,
        keys: keysBefore,
      });
      // The data-plane runtime reads exactly what the driver hands over.
      const cipherBefore = readTenantDataCipher(first);
      expect(cipherBefore?.activeKeyVersion).toBe(1);
      const sealed = cipherBefore?.encrypt(Buffer.from('an original document'), 'document:1');
      // The environment is the only place the keys go: no log line, no host log.
      const hostLog = await readFile(join(dataDir, 'tenants', tenant.slug, 'host.log'), 'utf8');
      for (const text of [JSON.stringify(logged), hostLog]) {
        expect(text).not.toContain(keysBefore['1']);
      }

      // A plan change, or a rotation, is drift for a running host.
      const upgraded = { ...tenant, spec: { ...tenant.spec, plan: 'enterprise' } };
      expect((await local.drivers.services.observe(upgraded)).drift).toEqual([
        'plan (host has business)',
      ]);
      await apply(tenant, { component: 'keys', type: 'create-version', version: 2 });
      expect((await local.drivers.services.observe(tenant)).drift).toEqual([
        'data keys (host has version 1)',
      ]);
      await apply(tenant, { component: 'services', type: 'start' });
      const secondPid = await waitFor(async () => {
        const pid = await hostPid(tenant);
        return pid !== firstPid ? pid : undefined;
      });
      expect(isAlive(firstPid)).toBe(false);
      const second = await environmentOf(secondPid);
      expect(JSON.parse(second.CITADEL_TENANT_DATA_KEYS ?? '')).toEqual({
        active: 2,
        keys: await unwrappedKeys(tenant),
      });
      const cipherAfter = readTenantDataCipher(second);
      expect(cipherAfter?.activeKeyVersion).toBe(2);
      // What the host sealed before the rotation still opens after it.
      expect(cipherAfter?.decrypt(sealed ?? Buffer.alloc(0), 'document:1').toString()).toBe(
        'an original document',
      );
      expect(await local.drivers.services.observe(tenant)).toMatchObject({ state: 'running' });
      expect((await local.drivers.services.observe(tenant)).drift).toBeUndefined();
      for (const action of REMOVE) await apply(tenant, action);
    },
  );

  it(
    'runs one host however many starts race, and kills a stale host left in host.pid',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant();
      await provision(tenant, PROVISION.slice(0, 5));
      const login = await credentials.read(tenant.uid);
      if (!login) throw new Error('no credentials');
      // A wedged host of an earlier control plane: no IPC channel, so it would never exit.
      const stale = spawn(process.execPath, [HOST_ENTRY], {
        env: await hostEnvironmentOf(tenant, login),
        stdio: 'ignore',
      });
      const stalePid = stale.pid ?? 0;
      await writeFile(join(dataDir, 'tenants', tenant.slug, 'host.pid'), `${stalePid}\n`);
      await waitFor(async () =>
        (await processesOf(tenant.slug)).includes(stalePid) ? true : undefined,
      );

      await Promise.all(
        Array.from({ length: 4 }, () => apply(tenant, { component: 'services', type: 'start' })),
      );
      await waitFor(() => (isAlive(stalePid) ? undefined : true));
      expect(await processesOf(tenant.slug)).toEqual([await hostPid(tenant)]);
      expect(logged.some((entry) => entry.message.includes('stale data-plane host'))).toBe(true);
      for (const action of REMOVE) await apply(tenant, action);
    },
  );

  it(
    'never leaves a host behind when its supervisor is SIGKILLed',
    { timeout: 30_000 },
    async () => {
      const tenant = newTenant();
      await provision(tenant, PROVISION.slice(0, 5));
      const login = await credentials.read(tenant.uid);
      if (!login) throw new Error('no credentials');
      const launch = {
        tenantUid: tenant.uid,
        slug: tenant.slug,
        directory: join(dataDir, 'tenants', tenant.slug),
        environment: await hostEnvironmentOf(tenant, login),
      };
      const parent = spawn(
        process.execPath,
        [PARENT_FIXTURE, JSON.stringify({ hostEntry: HOST_ENTRY, launch })],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const ready = await new Promise<{ ready: string }>((resolveReady, reject) => {
        parent.stdout.once('data', (chunk: Buffer) =>
          resolveReady(JSON.parse(chunk.toString()) as { ready: string }),
        );
        parent.once('exit', (code) => reject(new Error(`parent exited with ${code}`)));
      });
      expect((await healthOf(ready.ready)).body.status).toBe('ok');
      const pid = await hostPid(tenant);
      expect(isAlive(pid)).toBe(true);

      parent.kill('SIGKILL');
      const started = performance.now();
      await waitFor(
        async () => ((await processesOf(tenant.slug)).length === 0 ? true : undefined),
        5_000,
      );
      console.log(
        `host exited ${(performance.now() - started).toFixed(0)} ms after its supervisor was SIGKILLed`,
      );
      for (const action of REMOVE) await apply(tenant, action);
    },
  );
});
