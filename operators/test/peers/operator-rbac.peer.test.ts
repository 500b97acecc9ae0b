import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  clusterRoleBindingManifest,
  clusterRoleManifest,
  componentName,
  leaderElectionRoleBindingManifest,
  leaderElectionRoleManifest,
  MASTER_KEY_FILE,
  MASTER_KEY_MOUNT_PATH,
  OPERATOR_RULES,
  PLATFORM_DATA_DIR,
  serviceAccountManifest,
  SYSTEM_NAMESPACE,
} from '@citadel/infra';
import {
  KUBE_API_SERVER_PEERS,
  peerSuite,
  waitFor,
  type ServiceAccountKubeconfig,
} from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalKeyRing } from '../../src/drivers/local/local-key-ring.ts';
import { exportsDirectory } from '../../src/drivers/local/tenant-export-directory.ts';
import { tenantSecretName } from '../../src/kubernetes/drivers/kubernetes-tenant-secret-store.ts';
import { type KubernetesRestClient } from '../../src/kubernetes/kubernetes-rest-client.ts';
import { OPERATOR_FINALIZER } from '../../src/kubernetes/kubernetes-tenant-store.ts';
import {
  renderBoundaryObjects,
  renderServiceObjects,
} from '../../src/kubernetes/tenant-object-renderer.ts';
import {
  deleteObject,
  OPERATOR_NAMESPACE,
  operatorMetric,
  readObject,
  readTenant,
  serverSideApply,
  startOperatorPeerWorld,
  startOperatorProcess,
  TEMPLATE_PARAMETERS,
  tenantObject,
  tenantSpec,
  waitForReady,
  type OperatorPeerWorld,
  type OperatorProcess,
} from './operator-peer-fixture.ts';

/**
 * The operator as production runs it: a process authenticated as its own ServiceAccount (a
 * TokenRequest token, as a pod's projected token is), bound to exactly the ClusterRole and
 * leader-election Role the platform stack applies (infra's manifests), with the platform master
 * key laid out as the Secret volume mounts it. A Tenant goes to Ready and is deleted through
 * the finalizer, and not one of the operator's requests is refused (its log and the API
 * server's audit log). A permission missing from OPERATOR_RULES fails here first.
 */

const suite = peerSuite(
  "the operator as its ServiceAccount, with exactly the platform stack's RBAC",
  KUBE_API_SERVER_PEERS,
);

const SLUG = 'rbac';
const NAMESPACE = `tenant-${SLUG}`;
/** Its own instance: a shared PostgreSQL may hold the other peer tests' roles. */
const INSTANCE_ID = 'rbac01';
const SECRET = { apiVersion: 'v1', kind: 'Secret' };
const NAMESPACE_TYPE = { apiVersion: 'v1', kind: 'Namespace' };

interface AuditEvent {
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string };
  responseStatus?: { code?: number; message?: string };
}

/** The operator's RBAC as the platform stack applies it (IRSA annotation included). */
function operatorRbac(): Array<{ apiVersion: string; kind: string; metadata?: ObjectMeta }> {
  return [
    serviceAccountManifest('operator', 'arn:aws:iam::123456789012:role/citadel-operator'),
    clusterRoleManifest('operator', OPERATOR_RULES),
    clusterRoleBindingManifest('operator'),
    leaderElectionRoleManifest(),
    leaderElectionRoleBindingManifest(),
  ];
}

interface ObjectMeta {
  name?: string;
  namespace?: string;
}

/**
 * Creates `object` as the admin. The operator's client knows the paths of the kinds it manages
 * only; these kinds' resources are their lower-cased names plus `s`.
 */
async function create(
  rest: KubernetesRestClient,
  object: { apiVersion: string; kind: string; metadata?: ObjectMeta },
): Promise<void> {
  const group = object.apiVersion.includes('/') ? '/apis' : '/api';
  const namespace = object.metadata?.namespace ? `/namespaces/${object.metadata.namespace}` : '';
  const collection = `${group}/${object.apiVersion}${namespace}/${object.kind.toLowerCase()}s`;
  await rest.request('POST', collection, { body: object });
}

/** Where the operator pod has the master key Secret mounted, under `dataDir`. */
const masterKeyDirectory = (dataDir: string) =>
  path.join(dataDir, path.relative(PLATFORM_DATA_DIR, MASTER_KEY_MOUNT_PATH));

/**
 * A new master key as the operator pod has it: `<CITADEL_DATA_DIR>/keys/master.key`, mode 0440
 * (a Secret volume with defaultMode 0400, in a pod with an fsGroup).
 */
async function mountMasterKey(dataDir: string): Promise<Buffer> {
  const file = path.join(masterKeyDirectory(dataDir), MASTER_KEY_FILE);
  const key = randomBytes(32);
  await mkdir(masterKeyDirectory(dataDir), { recursive: true });
  await writeFile(file, key);
  await chmod(file, 0o440);
  return key;
}

describe.skipIf(suite.skip)(suite.title, () => {
  let world: OperatorPeerWorld;
  let account: ServiceAccountKubeconfig;
  let operator: OperatorProcess;
  let masterKey: Buffer;
  let uid: string;

  /** The API server's record of every request the operator made. */
  const operatorRequests = async (): Promise<AuditEvent[]> => {
    const log = await readFile(world.server.auditLogPath ?? '', 'utf8');
    return log
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter((event) => event.user.username === account.username);
  };
  /** Each request refused to the operator, once however often it was retried. */
  const refusals = async () => [
    ...new Set(
      (await operatorRequests())
        .filter((event) => event.responseStatus?.code === 403)
        .map(
          (event) => `${event.verb} ${event.requestURI}: ${event.responseStatus?.message ?? ''}`,
        ),
    ),
  ];
  /** `operation`, failing with the requests the API server refused the operator, if any. */
  const explained = async <T>(operation: Promise<T>): Promise<T> => {
    try {
      return await operation;
    } catch (error) {
      const refused = await refusals();
      throw new Error(`${(error as Error).message}; refused: ${refused.join('; ') || 'nothing'}`, {
        cause: error,
      });
    }
  };

  beforeAll(async () => {
    world = await startOperatorPeerWorld({
      auditLog: true,
      // As hardened clusters run it: an owner reference that blocks its owner's deletion needs
      // `update` of the owner's finalizers (every child points at its Tenant so).
      apiServerFlags: ['--enable-admission-plugins=OwnerReferencesPermissionEnforcement'],
    });
    expect(OPERATOR_NAMESPACE).toBe(SYSTEM_NAMESPACE);
    for (const object of operatorRbac()) await create(world.clients.rest, object);
    account = await world.server.serviceAccountKubeconfig({
      namespace: SYSTEM_NAMESPACE,
      name: componentName('operator'),
    });
    masterKey = await mountMasterKey(world.dataDir);
    operator = await startOperatorProcess(world, {
      identity: 'rbac',
      env: {
        KUBECONFIG: account.kubeconfigPath,
        CITADEL_INSTANCE_ID: INSTANCE_ID,
        CITADEL_PLATFORM_ENDPOINTS: JSON.stringify(TEMPLATE_PARAMETERS.platformEndpoints),
        CITADEL_RESYNC_INTERVAL_MS: '5000',
      },
    });
  });

  afterAll(async () => {
    // Unset when beforeAll failed before starting it.
    const started = operator as OperatorProcess | undefined;
    if (started?.child.exitCode === null && started.child.signalCode === null) {
      started.child.kill('SIGTERM');
      await started.exited;
    }
    await world.stop();
  });

  it('leads, and provisions a Tenant to Ready with every child the templates render', async () => {
    await explained(
      waitFor(
        async () =>
          (await operatorMetric(operator, 'citadel_operator_leader')) === 1 ? true : undefined,
        { timeoutMs: 20_000, description: 'the operator to take the Lease' },
      ),
    );
    await serverSideApply(world.clients.rest, tenantObject(SLUG));
    const tenant = await explained(waitForReady(world.clients, SLUG));
    uid = tenant.metadata.uid;

    expect(tenant.metadata.finalizers).toContain(OPERATOR_FINALIZER);
    const conditions = Object.fromEntries(
      (tenant.status?.conditions ?? []).map((condition) => [condition.type, condition.status]),
    );
    expect(conditions).toMatchObject({
      NamespaceReady: 'True',
      KeysReady: 'True',
      DatabaseReady: 'True',
      VectorStoreReady: 'True',
      ServicesReady: 'True',
    });
    const ref = { uid, slug: SLUG, spec: tenantSpec(SLUG) };
    const children = [
      ...renderBoundaryObjects(ref, TEMPLATE_PARAMETERS, undefined),
      ...renderServiceObjects(ref, TEMPLATE_PARAMETERS, {
        suspended: false,
        dataKeyVersion: 1,
        milvus: undefined,
      }),
    ];
    const kinds = new Set(children.map((child) => child.kind));
    for (const kind of ['Namespace', 'ResourceQuota', 'NetworkPolicy', 'Role', 'Deployment']) {
      expect(kinds).toContain(kind);
    }
    for (const child of children) {
      const name = child.metadata?.name ?? '';
      const live = await readObject(world.clients.rest, child, name, child.metadata?.namespace);
      expect(live, `${child.kind} ${name}`).toBeDefined();
    }
    expect(await readObject(world.clients.rest, SECRET, 'database-credentials', NAMESPACE)).toEqual(
      expect.objectContaining({ kind: 'Secret' }),
    );
  });

  it('wraps the tenant’s data key with the mounted master key, and never writes one of its own', async () => {
    const stored = await readObject(
      world.clients.rest,
      SECRET,
      tenantSecretName(uid),
      SYSTEM_NAMESPACE,
    );
    const secrets = JSON.parse(
      Buffer.from(
        (stored?.data as Record<string, string>)['tenant-secrets.json'] ?? '',
        'base64',
      ).toString(),
    ) as { dataKeys: Array<{ wrappedKey: string }> };
    expect(secrets.dataKeys).toHaveLength(1);
    // Only the mounted key unwraps it (any other fails with `wrong-master-key`).
    const keyRing = await createLocalKeyRing({ dataDir: world.dataDir });
    expect(keyRing.masterKeyId).toBe(
      createHash('sha256').update(masterKey).digest().subarray(0, 4).toString('hex'),
    );
    const wrapped = Buffer.from(secrets.dataKeys[0]?.wrappedKey ?? '', 'base64');
    expect(keyRing.unwrap(wrapped)).toHaveLength(32);
    const keys = masterKeyDirectory(world.dataDir);
    expect(await readdir(keys)).toEqual([MASTER_KEY_FILE]);
    expect(await readFile(path.join(keys, MASTER_KEY_FILE))).toEqual(masterKey);
  });

  it('deletes the Tenant through its finalizer: export, database role and namespace gone', async () => {
    await deleteObject(world.clients.rest, tenantObject(SLUG));
    await explained(
      waitFor(async () => ((await readTenant(world.clients, SLUG)) ? undefined : true), {
        timeoutMs: 90_000,
        description: `tenant ${SLUG} to be deleted`,
      }),
    );
    await waitFor(
      async () =>
        (await readObject(world.clients.rest, NAMESPACE_TYPE, NAMESPACE)) ? undefined : true,
      { timeoutMs: 60_000, description: `namespace ${NAMESPACE} to be gone` },
    );
    expect(
      await readObject(world.clients.rest, SECRET, tenantSecretName(uid), SYSTEM_NAMESPACE),
    ).toBeUndefined();
    const { rows } = await world.adminPool.query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname LIKE $1',
      [`citadel_${INSTANCE_ID}_%`],
    );
    expect(rows).toEqual([]);
    const exports = await readdir(exportsDirectory(world.dataDir));
    expect(exports.filter((name) => name.includes(SLUG))).toHaveLength(1);
  });

  it('was refused nothing: no 403 in its log, none in the audit log of its requests', async () => {
    const requests = await operatorRequests();
    const resources = new Set(requests.map((event) => event.objectRef?.resource));
    // The audit log really holds the operator's work, done as its ServiceAccount.
    for (const resource of ['tenants', 'leases', 'namespaces', 'deployments', 'secrets']) {
      expect(resources).toContain(resource);
    }
    expect(await refusals()).toEqual([]);
    expect(operator.output.join('')).not.toMatch(/HTTP 403|forbidden/i);
  });
});
