import { describe, expect, it } from 'vitest';
import { defaultTenantSpec, findPlan, type TenantResource } from '@citadel/contracts';
import { nothingObserved, type ObservedTenant } from '../src/core/observed-state.ts';
import { planTenant } from '../src/core/tenant-planner.ts';

const NOW = new Date('2026-11-24T12:00:00Z');

function tenant(
  overrides: { suspended?: boolean; deleting?: boolean; plan?: string } = {},
): TenantResource {
  const plan = findPlan(overrides.plan ?? 'starter');
  if (!plan) throw new Error('plan missing from catalog');
  const spec = defaultTenantSpec({ slug: 'acme', displayName: 'Acme', plan, region: 'local' });
  spec.suspended = overrides.suspended ?? false;
  return {
    apiVersion: 'citadel.azora.dev/v1alpha1',
    kind: 'Tenant',
    metadata: {
      name: 'acme',
      uid: '6f1c7c3e-0000-4000-8000-000000000001',
      generation: 1,
      creationTimestamp: NOW.toISOString(),
      deletionTimestamp: overrides.deleting ? NOW.toISOString() : undefined,
      finalizers: ['citadel.azora.dev/tenant-resources'],
    },
    spec,
    status: { phase: 'Pending', observedGeneration: 0, conditions: [], endpoints: {} },
  };
}

function everythingReady(): ObservedTenant {
  return {
    namespace: { exists: true },
    keys: { versions: [{ version: 1, active: true, createdAt: NOW }] },
    database: {
      roleExists: true,
      credentialsStored: true,
      databaseExists: true,
      publicConnectRevoked: true,
      loginAllowed: true,
    },
    vectorStore: { ready: true, engine: 'exact' },
    services: {
      state: 'running',
      endpoint: 'http://127.0.0.1:40000',
      restarts: 0,
      lastError: undefined,
    },
    gpuPool: {
      available: false,
      ready: false,
      reason: 'NoGpuOnHost',
      message: 'no GPU on this host',
    },
    dataExport: { completed: false, location: undefined },
  };
}

/** What the drivers report once the export has been written. */
function exported(observed: ObservedTenant): ObservedTenant {
  return { ...observed, dataExport: { completed: true, location: '/exports/acme-1' } };
}

function actionNames(plan: { actions: Array<{ component: string; type: string }> }): string[] {
  return plan.actions.map((action) => `${action.component}:${action.type}`);
}

describe('planTenant', () => {
  it('provisions a new tenant in dependency order', () => {
    const plan = planTenant(tenant(), nothingObserved(), NOW);
    expect(plan.actions.map((action) => `${action.component}:${action.type}`)).toEqual([
      'namespace:ensure',
      'keys:create-version',
      'database:ensure-role',
      'database:ensure-database',
      'database:revoke-public-connect',
      'vectorStore:ensure',
      'services:start',
    ]);
    expect(plan.phase).toBe('Provisioning');
    expect(plan.converged).toBe(false);
  });

  it('does nothing on a second pass over a converged tenant (idempotent)', () => {
    const plan = planTenant(tenant(), everythingReady(), NOW);
    expect(plan.actions).toEqual([]);
    expect(plan.phase).toBe('Ready');
    expect(plan.converged).toBe(true);
  });

  it('reports one condition per component, with GpuPoolReady=False NoGpuOnHost locally', () => {
    const plan = planTenant(tenant({ plan: 'enterprise' }), everythingReady(), NOW);
    expect(plan.conditions.map((condition) => condition.type)).toEqual([
      'NamespaceReady',
      'KeysReady',
      'DatabaseReady',
      'VectorStoreReady',
      'ServicesReady',
      'GpuPoolReady',
    ]);
    expect(plan.conditions.find((condition) => condition.type === 'GpuPoolReady')).toMatchObject({
      status: 'False',
      reason: 'NoGpuOnHost',
    });
    expect(plan.phase).toBe('Ready');
  });

  it('blocks readiness on the GPU pool where the platform can provide one', () => {
    const observed = everythingReady();
    observed.gpuPool = {
      available: true,
      ready: false,
      reason: 'Provisioning',
      message: 'node group creating',
    };
    const plan = planTenant(tenant({ plan: 'enterprise' }), observed, NOW);
    expect(plan.actions).toEqual([{ component: 'gpuPool', type: 'ensure' }]);
    expect(plan.phase).toBe('Provisioning');
  });

  it('waits without acting while the host starts or crash-loops under its supervisor', () => {
    const observed = everythingReady();
    observed.services = { state: 'crashed', endpoint: undefined, restarts: 3, lastError: 'exit 1' };
    const plan = planTenant(tenant(), observed, NOW);
    expect(plan.actions).toEqual([]);
    expect(plan.phase).toBe('Provisioning');
    expect(plan.converged).toBe(false);
    expect(plan.conditions.find((condition) => condition.type === 'ServicesReady')?.reason).toBe(
      'CrashLoopBackOff',
    );
  });

  it('rotates the data key once it is older than the rotation period', () => {
    const observed = everythingReady();
    observed.keys.versions = [
      { version: 1, active: true, createdAt: new Date('2026-01-01T00:00:00Z') },
    ];
    const plan = planTenant(tenant(), observed, NOW);
    expect(plan.actions).toEqual([{ component: 'keys', type: 'create-version', version: 2 }]);
  });

  it('suspends by stopping services, then disabling login; keeps data', () => {
    const plan = planTenant(tenant({ suspended: true }), everythingReady(), NOW);
    expect(plan.actions).toEqual([
      { component: 'services', type: 'stop' },
      { component: 'database', type: 'deny-login' },
    ]);
    const suspended = everythingReady();
    suspended.services = {
      state: 'stopped',
      endpoint: undefined,
      restarts: 0,
      lastError: undefined,
    };
    suspended.database.loginAllowed = false;
    const settled = planTenant(tenant({ suspended: true }), suspended, NOW);
    expect(settled.actions).toEqual([]);
    expect(settled.phase).toBe('Suspended');
  });

  it('resumes by re-enabling login before starting services', () => {
    const observed = everythingReady();
    observed.services = {
      state: 'stopped',
      endpoint: undefined,
      restarts: 0,
      lastError: undefined,
    };
    observed.database.loginAllowed = false;
    const plan = planTenant(tenant(), observed, NOW);
    expect(plan.actions).toEqual([
      { component: 'database', type: 'allow-login' },
      { component: 'services', type: 'start' },
    ]);
  });

  it('deletes services first and keys last once the data is exported, then converges', () => {
    const plan = planTenant(tenant({ deleting: true }), exported(everythingReady()), NOW);
    expect(actionNames(plan)).toEqual([
      'services:stop',
      'database:remove',
      'keys:remove',
      'namespace:remove',
    ]);
    expect(plan.phase).toBe('Deleting');
    const gone = planTenant(tenant({ deleting: true }), exported(nothingObserved()), NOW);
    expect(gone.actions).toEqual([]);
    expect(gone.converged).toBe(true);
  });

  it('exports before it removes anything: services stop, then the export, and nothing else', () => {
    const plan = planTenant(tenant({ deleting: true }), everythingReady(), NOW);
    expect(actionNames(plan)).toEqual(['services:stop', 'dataExport:export']);
    expect(plan.converged).toBe(false);
    expect(plan.conditions.find((condition) => condition.type === 'DataExported')).toMatchObject({
      status: 'False',
      reason: 'Pending',
    });
  });

  it('reports DataExported only while deleting, True with the location once exported', () => {
    const live = planTenant(tenant(), everythingReady(), NOW);
    expect(live.conditions.map((condition) => condition.type)).not.toContain('DataExported');
    const plan = planTenant(tenant({ deleting: true }), exported(everythingReady()), NOW);
    expect(plan.conditions.find((condition) => condition.type === 'DataExported')).toMatchObject({
      status: 'True',
      reason: 'Exported',
      message: expect.stringContaining('/exports/acme-1') as unknown,
    });
  });

  it('never converges a deletion without an export, even with nothing left to remove', () => {
    // A tenant deleted before anything was provisioned still leaves its record and audit log.
    const plan = planTenant(tenant({ deleting: true }), nothingObserved(), NOW);
    expect(actionNames(plan)).toEqual(['dataExport:export']);
    expect(plan.converged).toBe(false);
  });

  it('resumes a half-finished deletion without exporting again', () => {
    const observed = exported(nothingObserved());
    observed.keys.versions = [{ version: 1, active: true, createdAt: NOW }];
    observed.namespace.exists = true; // crashed after the database was removed
    const plan = planTenant(tenant({ deleting: true }), observed, NOW);
    expect(actionNames(plan)).toEqual(['keys:remove', 'namespace:remove']);
  });

  it('resumes a half-finished provisioning from where the observation says it stopped', () => {
    const observed = nothingObserved();
    observed.namespace.exists = true;
    observed.keys.versions = [{ version: 1, active: true, createdAt: NOW }];
    observed.database.credentialsStored = true; // crashed after storing the password, before CREATE ROLE
    const plan = planTenant(tenant(), observed, NOW);
    expect(plan.actions[0]).toEqual({ component: 'database', type: 'ensure-role' });
    expect(plan.actions.some((action) => action.component === 'keys')).toBe(false);
  });
  describe('drivers that keep many objects (Kubernetes)', () => {
    it('re-applies the isolation boundary and the services when their objects drifted', () => {
      const observed = everythingReady();
      observed.namespace = { exists: true, drift: ['ResourceQuota/tenant-quota'] };
      observed.services = { ...observed.services, drift: ['Deployment/library'] };
      const plan = planTenant(tenant(), observed, NOW);
      expect(actionNames(plan)).toEqual(['namespace:ensure', 'services:start']);
      const conditions = Object.fromEntries(plan.conditions.map((c) => [c.type, c]));
      expect(conditions.NamespaceReady).toMatchObject({ status: 'False', reason: 'Drifted' });
      expect(conditions.ServicesReady).toMatchObject({
        status: 'False',
        reason: 'Drifted',
        message: 'missing or changed: Deployment/library',
      });
      expect(plan.phase).toBe('Provisioning');
    });

    it('applies the suspended services again when they drifted while suspended', () => {
      const observed = everythingReady();
      observed.database.loginAllowed = false;
      observed.services = { ...observed.services, state: 'stopped', drift: ['Deployment/sapiens'] };
      expect(actionNames(planTenant(tenant({ suspended: true }), observed, NOW))).toEqual([
        'services:stop',
      ]);
    });

    it('reports running services the way the driver describes them', () => {
      const observed = everythingReady();
      observed.services.runningAs = { reason: 'Applied', message: 'objects applied and read back' };
      const plan = planTenant(tenant(), observed, NOW);
      expect(plan.conditions.find((c) => c.type === 'ServicesReady')).toMatchObject({
        status: 'True',
        reason: 'Applied',
        message: 'objects applied and read back',
      });
      expect(plan.phase).toBe('Ready');
    });

    it('creates the cloud key before the first data key, and blocks readiness until it is', () => {
      const observed = nothingObserved();
      observed.keys.cloudKey = { state: 'absent', message: 'stack tenant-acme not deployed' };
      expect(actionNames(planTenant(tenant(), observed, NOW)).slice(0, 3)).toEqual([
        'namespace:ensure',
        'keys:ensure-cloud-key',
        'keys:create-version',
      ]);
      const ready = everythingReady();
      ready.keys.cloudKey = { state: 'outdated', message: 'rotation period changed' };
      const plan = planTenant(tenant(), ready, NOW);
      expect(actionNames(plan)).toEqual(['keys:ensure-cloud-key']);
      expect(plan.conditions.find((c) => c.type === 'KeysReady')).toMatchObject({
        status: 'False',
        reason: 'CloudKeyOutdated',
      });
    });

    it('removes a Milvus store and the cloud key on deletion; a pgvector store goes with its database', () => {
      const observed = exported(everythingReady());
      observed.services.state = 'stopped';
      observed.vectorStore = { ready: true, engine: 'milvus' };
      observed.keys = { versions: [], cloudKey: { state: 'ready', message: 'key ready' } };
      expect(actionNames(planTenant(tenant({ deleting: true }), observed, NOW))).toEqual([
        'vectorStore:remove',
        'database:remove',
        'keys:remove',
        'namespace:remove',
      ]);
      observed.vectorStore = { ready: true, engine: 'pgvector' };
      expect(actionNames(planTenant(tenant({ deleting: true }), observed, NOW))).not.toContain(
        'vectorStore:remove',
      );
    });
  });
});
