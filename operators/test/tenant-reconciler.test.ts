import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TENANT_FINALIZER,
  defaultTenantSpec,
  findPlan,
  type TenantResource,
  type TenantStatus,
} from '@citadel/contracts';
import {
  nothingObserved,
  type ObservedDataExport,
  type ObservedTenant,
} from '../src/core/observed-state.ts';
import type { DataExportAction, ReconcileAction } from '../src/core/reconcile-action.ts';
import type { ComponentDriver } from '../src/core/tenant-drivers.ts';
import {
  createLocalDataExportDriver,
  type TenantExportSources,
} from '../src/drivers/local/local-data-export-driver.ts';
import { exportsDirectory } from '../src/drivers/local/tenant-export-directory.ts';
import {
  FAILED_AFTER_ATTEMPTS,
  ReconcileStepError,
  createTenantReconciler,
} from '../src/core/tenant-reconciler.ts';
import type { TenantStore } from '../src/core/tenant-store.ts';

/**
 * The reconciler's processing loop, exercised against an in-memory world: drivers that
 * apply actions to a plain object. The real drivers have their own tests on PostgreSQL
 * and real processes (local-drivers.test.ts); this file is about ordering, status writes,
 * failures and finalizers.
 */
function createWorld(
  options: { dataExport?: ComponentDriver<ObservedDataExport, DataExportAction> } = {},
) {
  const state: ObservedTenant = nothingObserved();
  const applied: string[] = [];
  const failing = new Set<string>();

  const stopped = {
    state: 'stopped',
    endpoint: undefined,
    restarts: 0,
    lastError: undefined,
  } as const;
  const effects: Record<string, () => void> = {
    'namespace:ensure': () => (state.namespace.exists = true),
    'namespace:remove': () => (state.namespace.exists = false),
    'keys:create-version': () =>
      (state.keys.versions = [{ version: 1, active: true, createdAt: new Date() }]),
    'keys:remove': () => (state.keys.versions = []),
    'database:ensure-role': () =>
      Object.assign(state.database, {
        roleExists: true,
        credentialsStored: true,
        loginAllowed: true,
      }),
    'database:ensure-database': () => (state.database.databaseExists = true),
    'database:revoke-public-connect': () => (state.database.publicConnectRevoked = true),
    'database:remove': () => {
      state.database = {
        roleExists: false,
        credentialsStored: false,
        databaseExists: false,
        publicConnectRevoked: false,
        loginAllowed: false,
      };
      state.vectorStore = { ready: false, engine: undefined };
    },
    'vectorStore:ensure': () => (state.vectorStore = { ready: true, engine: 'exact' }),
    'services:start': () =>
      (state.services = { ...stopped, state: 'running', endpoint: 'http://127.0.0.1:1' }),
    'services:stop': () => (state.services = { ...stopped }),
    'dataExport:export': () => (state.dataExport = { completed: true, location: 'memory' }),
  };

  function apply(action: ReconcileAction): void {
    const name = `${action.component}:${action.type}`;
    if (failing.has(name)) throw new Error(`${name} refused`);
    const effect = effects[name];
    if (!effect) throw new Error(`unexpected action ${name}`);
    applied.push(name);
    effect();
  }

  function driver<K extends keyof ObservedTenant>(
    component: K,
  ): ComponentDriver<ObservedTenant[K], never> {
    return {
      observe: () => Promise.resolve(structuredClone(state[component])),
      apply: (_tenant, action: ReconcileAction) => {
        apply(action);
        return Promise.resolve();
      },
    };
  }

  const drivers = {
    namespace: driver('namespace'),
    keys: driver('keys'),
    database: driver('database'),
    vectorStore: driver('vectorStore'),
    services: driver('services'),
    gpuPool: driver('gpuPool'),
    dataExport: options.dataExport ?? driver('dataExport'),
  };

  const plan = findPlan('starter');
  if (!plan) throw new Error('starter plan missing');
  let tenant: TenantResource | undefined = {
    apiVersion: 'citadel.azora.dev/v1alpha1',
    kind: 'Tenant',
    metadata: {
      name: 'acme',
      uid: '00000000-0000-4000-8000-000000000001',
      generation: 1,
      creationTimestamp: new Date().toISOString(),
      deletionTimestamp: undefined,
      finalizers: [TENANT_FINALIZER],
    },
    spec: defaultTenantSpec({ slug: 'acme', displayName: 'Acme', plan, region: 'local' }),
    status: { phase: 'Pending', observedGeneration: 0, conditions: [], endpoints: {} },
  };
  const statusWrites: TenantStatus[] = [];
  const store: TenantStore = {
    listSlugs: () => Promise.resolve(tenant ? [tenant.metadata.name] : []),
    get: () => Promise.resolve(tenant ? structuredClone(tenant) : undefined),
    writeStatus: (_slug, _uid, status) => {
      statusWrites.push(structuredClone(status));
      if (tenant) tenant.status = structuredClone(status);
      return Promise.resolve();
    },
    removeFinalizer: (_slug, _uid, finalizer) => {
      if (tenant) {
        tenant.metadata.finalizers = tenant.metadata.finalizers.filter(
          (name) => name !== finalizer,
        );
        if (tenant.metadata.finalizers.length === 0 && tenant.metadata.deletionTimestamp)
          tenant = undefined;
      }
      return Promise.resolve();
    },
  };
  const reconciler = createTenantReconciler({
    store,
    drivers,
    endpointsFor: (resource) => ({ gateway: `http://localhost/t/${resource.metadata.name}` }),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  return {
    state,
    applied,
    failing,
    statusWrites,
    reconciler,
    current: () => tenant,
    markDeleted: () => {
      if (tenant) tenant.metadata.deletionTimestamp = new Date().toISOString();
    },
  };
}

describe('createTenantReconciler', () => {
  it('converges in one pass, writing status after every step', async () => {
    const world = createWorld();
    const result = await world.reconciler.reconcile('acme');
    expect(result.requeueAfterMs).toBeUndefined();
    expect(world.applied).toHaveLength(7);
    // One write per step plus the Provisioning and the final Ready writes.
    expect(world.statusWrites.length).toBeGreaterThanOrEqual(world.applied.length);
    const readyProgress = world.statusWrites.map(
      (status) => status.conditions.filter((condition) => condition.status === 'True').length,
    );
    expect(readyProgress).toEqual([...readyProgress].sort((a, b) => a - b));
    expect(world.current()?.status).toMatchObject({
      phase: 'Ready',
      observedGeneration: 1,
      endpoints: { gateway: 'http://localhost/t/acme' },
    });
  });

  it('does nothing and writes nothing on a second pass (idempotent)', async () => {
    const world = createWorld();
    await world.reconciler.reconcile('acme');
    const applied = world.applied.length;
    const writes = world.statusWrites.length;
    await world.reconciler.reconcile('acme');
    expect(world.applied.length).toBe(applied);
    expect(world.statusWrites.length).toBe(writes);
  });

  it('records a failing step on its condition, reads Failed after repeated failures, then recovers', async () => {
    const world = createWorld();
    world.failing.add('database:ensure-database');
    await expect(world.reconciler.reconcile('acme', 0)).rejects.toBeInstanceOf(ReconcileStepError);
    const database = world
      .current()
      ?.status.conditions.find((condition) => condition.type === 'DatabaseReady');
    expect(database).toMatchObject({ status: 'False', reason: 'ReconcileError' });
    expect(database?.message).toMatch(/ensure-database failed: database:ensure-database refused/);
    expect(world.current()?.status.phase).toBe('Provisioning');

    await expect(world.reconciler.reconcile('acme', FAILED_AFTER_ATTEMPTS - 1)).rejects.toThrow();
    expect(world.current()?.status.phase).toBe('Failed');

    world.failing.clear();
    await world.reconciler.reconcile('acme', FAILED_AFTER_ATTEMPTS);
    expect(world.current()?.status.phase).toBe('Ready');
  });

  it('removes everything and then the finalizer, and the tenant is gone', async () => {
    const world = createWorld();
    await world.reconciler.reconcile('acme');
    world.markDeleted();
    await world.reconciler.reconcile('acme');
    expect(world.applied.slice(-5)).toEqual([
      'services:stop',
      'dataExport:export',
      'database:remove',
      'keys:remove',
      'namespace:remove',
    ]);
    expect(world.current()).toBeUndefined();
  });

  it('keeps the finalizer while a removal step fails', async () => {
    const world = createWorld();
    await world.reconciler.reconcile('acme');
    world.markDeleted();
    world.failing.add('database:remove');
    await expect(world.reconciler.reconcile('acme')).rejects.toThrow();
    expect(world.current()?.metadata.finalizers).toEqual([TENANT_FINALIZER]);
    expect(world.current()?.status.phase).toBe('Deleting');
  });
});

/**
 * Crash safety of the export step, with the real local export driver writing to a temporary
 * data directory. The control plane's parts (tenant record, audit log) are stand-ins here,
 * and so is the database dump: both are tested on their own against PostgreSQL
 * (tenant-export.integration.test.ts, local-drivers.test.ts). A "crash" is a step throwing:
 * the pass stops there exactly as a killed process would, and the retry starts from scratch.
 */
describe('deletion export, crash safety', () => {
  const directories: string[] = [];
  afterEach(async () => {
    await Promise.all(directories.map((path) => rm(path, { recursive: true, force: true })));
  });

  async function exportingWorld(crashDuringAudit: { remaining: number }) {
    const dataDir = await mkdtemp(join(tmpdir(), 'citadel-export-'));
    directories.push(dataDir);
    const calls = { describe: 0, audit: 0, dump: 0 };
    const sources: TenantExportSources = {
      describeTenant: (ref) => {
        calls.describe += 1;
        return Promise.resolve({
          tenant: { metadata: { name: ref.slug, uid: ref.uid } } as never,
          plan: undefined,
        });
      },
      async exportAuditLog(_ref, directory) {
        calls.audit += 1;
        await writeFile(join(directory, 'audit.ndjson'), '{"sequence":1}\n');
        if (crashDuringAudit.remaining > 0) {
          crashDuringAudit.remaining -= 1;
          throw new Error('killed while exporting the audit log');
        }
        return { entries: 1, lastSequence: 1, signingKeyIds: ['k1'] };
      },
    };
    const dataExport = createLocalDataExportDriver({
      dataDir,
      sources,
      async dumpDatabase(_ref, directory) {
        calls.dump += 1;
        await writeFile(join(directory, 'database.sql'), 'INSERT INTO notes VALUES (1);\n');
        return { method: 'pg_dump', note: 'stand-in' };
      },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const world = createWorld({ dataExport });
    await world.reconciler.reconcile('acme');
    world.markDeleted();
    return { world, calls, exportsRoot: exportsDirectory(dataDir) };
  }

  /** Every file the manifest lists exists with the digest it names. */
  async function expectSealed(directory: string): Promise<void> {
    const manifest = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8')) as {
      files: Array<{ path: string; sha256: string }>;
    };
    expect(manifest.files.map((file) => file.path)).toEqual([
      'audit.ndjson',
      'database.sql',
      'tenant.json',
    ]);
    for (const file of manifest.files) {
      const content = await readFile(join(directory, file.path));
      expect(createHash('sha256').update(content).digest('hex')).toBe(file.sha256);
      expect((await stat(join(directory, file.path))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
  }

  it('dies between export and removal: the retry removes without exporting again', async () => {
    const { world, calls, exportsRoot } = await exportingWorld({ remaining: 0 });
    world.failing.add('database:remove');
    await expect(world.reconciler.reconcile('acme')).rejects.toThrow(/database: remove failed/);
    expect(world.state.database.databaseExists).toBe(true);
    expect(world.current()?.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'DataExported', status: 'True', reason: 'Exported' }),
    );

    world.failing.clear();
    await world.reconciler.reconcile('acme');
    expect(world.current()).toBeUndefined();
    const entries = await readdir(exportsRoot);
    expect(entries).toHaveLength(1);
    expect(calls).toEqual({ describe: 1, audit: 1, dump: 1 });
    await expectSealed(join(exportsRoot, entries[0] ?? ''));
  });

  it('dies in the middle of the export: nothing is removed, the retry writes one fresh export', async () => {
    const { world, calls, exportsRoot } = await exportingWorld({ remaining: 1 });
    await expect(world.reconciler.reconcile('acme')).rejects.toThrow(/killed while exporting/);
    expect(world.current()?.status.phase).toBe('Deleting');
    expect(world.current()?.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'DataExported', status: 'False', reason: 'ReconcileError' }),
    );
    // Nothing was removed, and only a partial directory exists.
    expect(world.state.database.databaseExists).toBe(true);
    expect(world.state.keys.versions).toHaveLength(1);
    expect((await readdir(exportsRoot)).every((name) => name.startsWith('.partial-'))).toBe(true);

    await world.reconciler.reconcile('acme');
    expect(world.current()).toBeUndefined();
    const entries = await readdir(exportsRoot);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^acme-00000000-0000-4000-8000-000000000001-\d{8}T\d{6}Z$/);
    expect(calls).toEqual({ describe: 2, audit: 2, dump: 1 });
    await expectSealed(join(exportsRoot, entries[0] ?? ''));
  });
});
