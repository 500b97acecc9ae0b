import {
  dropPlatformResources,
  KUBE_API_SERVER_PEERS,
  peerSuite,
  waitFor,
} from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalKeyRing } from '../../src/drivers/local/local-key-ring.ts';
import { tenantSecretName } from '../../src/kubernetes/drivers/kubernetes-tenant-secret-store.ts';
import { OPERATOR_FINALIZER } from '../../src/kubernetes/kubernetes-tenant-store.ts';
import {
  objectNames,
  OPERATOR_NAMESPACE,
  operatorMetric as metric,
  readObject,
  readTenant,
  serverSideApply,
  startOperatorPeerWorld,
  startOperatorProcess,
  tenantObject,
  tenantRoles,
  waitForReady,
  type OperatorPeerWorld,
  type OperatorProcess,
} from './operator-peer-fixture.ts';

const suite = peerSuite(
  'the operator as a process: kill -9 and restart, two replicas and the Lease',
  KUBE_API_SERVER_PEERS,
);

const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
const LEASE_DURATION_MS = 4_000;
/**
 * Its own platform instance: its tenants are never deleted, and on a shared server
 * (`DATABASE_URL`) another file's instance may be provisioning at the same time.
 */
const INSTANCE_ID = 'proc01';

describe.skipIf(suite.skip)(suite.title, () => {
  let world: OperatorPeerWorld;
  const running: OperatorProcess[] = [];

  async function startOperator(identity: string): Promise<OperatorProcess> {
    const operator = await startOperatorProcess(world, {
      identity,
      env: {
        CITADEL_INSTANCE_ID: INSTANCE_ID,
        CITADEL_LEASE_DURATION_MS: String(LEASE_DURATION_MS),
        CITADEL_LEASE_RENEW_DEADLINE_MS: '3000',
        CITADEL_LEASE_RETRY_PERIOD_MS: '500',
        CITADEL_RESYNC_INTERVAL_MS: '5000',
      },
    });
    running.push(operator);
    return operator;
  }

  async function killHard(operator: OperatorProcess): Promise<void> {
    operator.child.kill('SIGKILL');
    await operator.exited;
  }

  const leaseHolder = async () => {
    const lease = await readObject(
      world.clients.rest,
      LEASE,
      'citadel-operator',
      OPERATOR_NAMESPACE,
    );
    return (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  };

  beforeAll(async () => {
    world = await startOperatorPeerWorld();
    // The replicas share the platform master key, as pods mounting one Secret do.
    await createLocalKeyRing({ dataDir: world.dataDir });
  });

  afterAll(async () => {
    for (const operator of running) {
      if (operator.child.exitCode === null && operator.child.signalCode === null) {
        operator.child.kill('SIGKILL');
      }
      await operator.exited;
    }
    // The tenants' databases and roles outlive the API server: drop them, as deletion would.
    await dropPlatformResources(world.postgres.url, INSTANCE_ID);
    await world.stop();
  });

  it('converges after kill -9 mid-reconcile and a restart, with nothing duplicated', async () => {
    const first = await startOperator('first');
    await waitFor(
      async () => ((await metric(first, 'citadel_operator_leader')) === 1 ? true : undefined),
      {
        timeoutMs: 20_000,
        description: 'the first operator to lead',
      },
    );
    await serverSideApply(world.clients.rest, tenantObject('crash'));
    // Kill as soon as a step is done in the cluster (the tenant's namespace exists) and the
    // tenant is not Ready yet. (Not from the status: within a pass it is written at most
    // every 2 s, so a fast pass shows no half-way status.)
    const atKill = await waitFor(
      async () => {
        const namespace = await readObject(
          world.clients.rest,
          { apiVersion: 'v1', kind: 'Namespace' },
          'tenant-crash',
        );
        if (!namespace) return undefined;
        const tenant = await readTenant(world.clients, 'crash');
        return tenant?.status?.phase !== 'Ready' ? tenant : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 5, description: 'the reconcile to be half-way' },
    );
    await killHard(first);
    const deploymentsAtKill = await objectNames(
      world.clients,
      { apiVersion: 'apps/v1', kind: 'Deployment' },
      'tenant-crash',
    );
    console.info(
      `killed mid-reconcile: namespace created, ${deploymentsAtKill.length} Deployment(s), phase ${atKill.status?.phase ?? 'none'}`,
    );
    expect(atKill.status?.phase).not.toBe('Ready');

    const restarted = await startOperator('restarted');
    const tenant = await waitForReady(world.clients, 'crash', 60_000);
    expect(await leaseHolder()).toBe('restarted');
    expect(tenant.metadata.finalizers?.filter((name) => name === OPERATOR_FINALIZER)).toHaveLength(
      1,
    );
    expect(await tenantRoles(world.adminPool, INSTANCE_ID)).toEqual([
      `citadel_${INSTANCE_ID}_crash`,
    ]);
    const secret = await readObject(
      world.clients.rest,
      { apiVersion: 'v1', kind: 'Secret' },
      tenantSecretName(tenant.metadata.uid),
      OPERATOR_NAMESPACE,
    );
    const stored = JSON.parse(
      Buffer.from(
        (secret?.data as Record<string, string>)['tenant-secrets.json'] ?? '',
        'base64',
      ).toString(),
    ) as { dataKeys: unknown[] };
    expect(stored.dataKeys).toHaveLength(1);
    const deployments = await objectNames(
      world.clients,
      { apiVersion: 'apps/v1', kind: 'Deployment' },
      'tenant-crash',
    );
    expect(deployments).toEqual([...tenant.spec.services].sort());
    expect(await metric(restarted, 'citadel_operator_leader')).toBe(1);
  });

  it('runs two replicas: one holds the Lease and reconciles; when it dies the other takes over', async () => {
    const [leader] = running.filter(
      (operator) => operator.child.exitCode === null && operator.child.signalCode === null,
    );
    if (!leader) throw new Error('the restarted operator is not running');
    const standby = await startOperator('standby');
    await waitFor(
      async () => ((await fetch(`http://127.0.0.1:${standby.port}/readyz`)).ok ? true : undefined),
      {
        timeoutMs: 10_000,
        description: 'the standby to be ready',
      },
    );
    const reconcilesBefore = (await metric(standby, 'citadel_operator_reconciles_total')) ?? 0;
    await serverSideApply(world.clients.rest, tenantObject('twin'));
    await waitForReady(world.clients, 'twin');
    expect(await leaseHolder()).toBe(leader.identity);
    expect(await metric(leader, 'citadel_operator_leader')).toBe(1);
    expect(await metric(standby, 'citadel_operator_leader')).toBe(0);
    expect((await metric(standby, 'citadel_operator_reconciles_total')) ?? 0).toBe(
      reconcilesBefore,
    );
    expect(await metric(leader, 'citadel_operator_reconciles_total')).toBeGreaterThan(0);

    const killedAt = Date.now();
    await killHard(leader);
    await waitFor(async () => ((await leaseHolder()) === 'standby' ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      description: 'the standby to take the Lease',
    });
    const takeoverMs = Date.now() - killedAt;
    console.info(`standby took the Lease ${takeoverMs} ms after the leader was killed`);
    expect(takeoverMs).toBeLessThan(LEASE_DURATION_MS * 3);
    await serverSideApply(world.clients.rest, tenantObject('after'));
    await waitForReady(world.clients, 'after');
    expect(await metric(standby, 'citadel_operator_leader')).toBe(1);
    expect(await metric(standby, 'citadel_operator_reconciles_total')).toBeGreaterThan(0);

    // A clean stop frees the Lease at once.
    standby.child.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
    expect(await leaseHolder()).toBe('');
  });
});
