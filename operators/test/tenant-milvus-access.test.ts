import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultTenantSpec, findPlan } from '@citadel/contracts';
import {
  DATABASE_CREDENTIALS_SECRET,
  MILVUS_TOKEN_KEY,
  type IDeployment,
  type INetworkPolicy,
  type ISecret,
} from '@citadel/tenant-templates';
import { startTestPostgres, type TestPostgres } from '@citadel/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObservedDatabase } from '../src/core/observed-state.ts';
import type { ComponentDriver, TenantRef } from '../src/core/tenant-drivers.ts';
import type { DatabaseAction } from '../src/core/reconcile-action.ts';
import { createLocalKeyRing } from '../src/drivers/local/local-key-ring.ts';
import { createLocalKeysDriver } from '../src/drivers/local/local-keys-driver.ts';
import { createTenantDatabaseCredentials } from '../src/drivers/local/tenant-database-credentials.ts';
import {
  createTenantDataKeys,
  type TenantDataKeys,
} from '../src/drivers/local/tenant-data-keys.ts';
import { createKubernetesDatabaseDriver } from '../src/kubernetes/drivers/kubernetes-database-driver.ts';
import { createKubernetesNamespaceDriver } from '../src/kubernetes/drivers/kubernetes-namespace-driver.ts';
import { createKubernetesServicesDriver } from '../src/kubernetes/drivers/kubernetes-services-driver.ts';
import { milvusDatabaseName } from '../src/kubernetes/drivers/milvus-vector-store-driver.ts';
import {
  createTenantMilvusAccess,
  type PlatformMilvus,
  type TenantMilvusAccess,
} from '../src/kubernetes/drivers/tenant-milvus-access.ts';
import { objectKey } from '../src/kubernetes/manifest-drift.ts';
import type { LiveObject, ServerSideApplier } from '../src/kubernetes/server-side-applier.ts';
import type { KubernetesTemplateParameters } from '../src/kubernetes/tenant-object-renderer.ts';
import { createPgTenantSecretStore, type PgTenantSecretStore } from './pg-tenant-secret-store.ts';

/** The instance and slug of the Milvus driver's own test, whose database it creates. */
const INSTANCE_ID = 'inst01';
const SLUG = 'vector-co';
const MILVUS_TOKEN = 'root:Milvus-token/with+odd=chars';
const PLATFORM: PlatformMilvus = {
  address: 'milvus.citadel-milvus.svc.cluster.local:19530',
  token: MILVUS_TOKEN,
  egress: { port: 19_530, destination: { namespace: 'citadel-milvus' } },
};
const PARAMETERS: KubernetesTemplateParameters = {
  image: { repository: 'registry.example.com/citadel/data-plane', tag: '1.4.2' },
  gateway: { namespace: 'citadel-system' },
  platformEndpoints: [{ name: 'database', port: 5432, destination: { cidr: '10.20.0.0/24' } }],
};
const MILVUS_VARIABLES = [
  'CITADEL_VECTOR_ENGINE',
  'CITADEL_MILVUS_ADDRESS',
  'CITADEL_MILVUS_DATABASE',
  'CITADEL_MILVUS_TOKEN',
];

function tenantOn(engine: 'pgvector' | 'milvus'): TenantRef {
  const plan = findPlan('enterprise');
  if (!plan) throw new Error('no enterprise plan');
  const spec = defaultTenantSpec({ slug: SLUG, displayName: 'Vector Co', plan, region: 'eu' });
  spec.resources.vectorStore.engine = engine;
  return { uid: randomUUID(), slug: SLUG, spec };
}

/**
 * Keeps what the drivers apply, by kind and name, and answers reads and lists from it: the
 * objects the drivers rendered, as they would send them to the API server.
 */
function createRecordingApplier(): ServerSideApplier & { objects: Map<string, LiveObject> } {
  const objects = new Map<string, LiveObject>();
  return {
    objects,
    apply(object) {
      const live = structuredClone(object) as LiveObject;
      objects.set(objectKey(live), live);
      return Promise.resolve(live);
    },
    read(reference) {
      return Promise.resolve(objects.get(objectKey(reference)));
    },
    list(type) {
      return Promise.resolve(
        [...objects.values()].filter(
          (object) => object.kind === type.kind && object.apiVersion === type.apiVersion,
        ),
      );
    },
    remove(reference) {
      objects.delete(objectKey(reference));
      return Promise.resolve();
    },
  };
}

function ofKind<T>(applier: { objects: Map<string, LiveObject> }, kind: string): T[] {
  return [...applier.objects.values()].filter((object) => object.kind === kind) as T[];
}

function environmentsOf(applier: { objects: Map<string, LiveObject> }) {
  return ofKind<IDeployment>(applier, 'Deployment').map(
    (deployment) => deployment.spec?.template.spec?.containers[0]?.env ?? [],
  );
}

describe('createTenantMilvusAccess', () => {
  it('gives a milvus tenant the platform’s Milvus and the database the Milvus driver creates', () => {
    const access = createTenantMilvusAccess(INSTANCE_ID, PLATFORM)(tenantOn('milvus'));
    expect(access).toEqual({
      address: 'milvus.citadel-milvus.svc.cluster.local:19530',
      egress: { port: 19_530, destination: { namespace: 'citadel-milvus' } },
      database: 'citadel_inst01_vector_co',
      token: MILVUS_TOKEN,
    });
    expect(access?.database).toBe(milvusDatabaseName(INSTANCE_ID, SLUG));
  });

  it('gives nothing to a pgvector tenant, nor where the platform has no Milvus', () => {
    expect(createTenantMilvusAccess(INSTANCE_ID, PLATFORM)(tenantOn('pgvector'))).toBeUndefined();
    expect(createTenantMilvusAccess(INSTANCE_ID, undefined)(tenantOn('milvus'))).toBeUndefined();
  });

  it('gives no token where Milvus asks none', () => {
    const access = createTenantMilvusAccess(INSTANCE_ID, { ...PLATFORM, token: undefined });
    expect(access(tenantOn('milvus'))).not.toHaveProperty('token');
  });
});

describe('the Kubernetes drivers, for a milvus tenant', () => {
  let postgres: TestPostgres;
  let pool: pg.Pool;
  let dataDir: string;
  let secrets: PgTenantSecretStore;
  let dataKeys: TenantDataKeys;

  /** A tenant with a data key and a stored database login, as the earlier steps leave it. */
  async function provisioned(engine: 'pgvector' | 'milvus'): Promise<TenantRef> {
    const tenant = tenantOn(engine);
    const keyRing = await createLocalKeyRing({ dataDir });
    await createLocalKeysDriver({ keyRing, secrets }).apply(tenant, {
      component: 'keys',
      type: 'create-version',
      version: 1,
    });
    const name = milvusDatabaseName(INSTANCE_ID, SLUG);
    await createTenantDatabaseCredentials({ secrets, dataKeys }).store(tenant.uid, {
      databaseName: name,
      roleName: name,
      password: randomBytes(16).toString('base64url'),
    });
    return tenant;
  }

  /** The database driver over a SQL driver that has done its part (tested elsewhere). */
  function databaseDriver(applier: ServerSideApplier, milvus: TenantMilvusAccess) {
    const sql: ComponentDriver<ObservedDatabase, DatabaseAction> = {
      observe: () =>
        Promise.resolve({
          roleExists: true,
          credentialsStored: true,
          databaseExists: true,
          publicConnectRevoked: true,
          loginAllowed: true,
        }),
      apply: () => Promise.resolve(),
    };
    return createKubernetesDatabaseDriver({
      database: sql,
      credentials: createTenantDatabaseCredentials({ secrets, dataKeys }),
      dataKeys,
      applier,
      parameters: PARAMETERS,
      address: { host: 'db.internal', port: 5432 },
      milvus,
    });
  }

  beforeAll(async () => {
    postgres = await startTestPostgres();
    pool = new pg.Pool({ connectionString: await postgres.createDatabase('milvus_access') });
    pool.on('error', () => undefined);
    secrets = createPgTenantSecretStore(pool, 'citadel_test_milvus_access');
    await secrets.migrate();
    dataDir = await mkdtemp(path.join(tmpdir(), 'citadel-milvus-access-'));
    dataKeys = createTenantDataKeys({ keyRing: await createLocalKeyRing({ dataDir }), secrets });
  });

  afterAll(async () => {
    await secrets.drop();
    await pool.end();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('tells every service pod its Milvus address and database, the token by reference', async () => {
    const tenant = await provisioned('milvus');
    const applier = createRecordingApplier();
    const milvus = createTenantMilvusAccess(INSTANCE_ID, PLATFORM);
    const services = createKubernetesServicesDriver({
      applier,
      parameters: PARAMETERS,
      secrets,
      milvus,
    });
    await services.apply(tenant, { component: 'services', type: 'start' });
    const environments = environmentsOf(applier);
    expect(environments.length).toBeGreaterThan(0);
    for (const env of environments) {
      expect(env.filter(({ name }) => MILVUS_VARIABLES.includes(name))).toEqual([
        { name: 'CITADEL_VECTOR_ENGINE', value: 'milvus' },
        { name: 'CITADEL_MILVUS_ADDRESS', value: PLATFORM.address },
        { name: 'CITADEL_MILVUS_DATABASE', value: 'citadel_inst01_vector_co' },
        {
          name: 'CITADEL_MILVUS_TOKEN',
          valueFrom: { secretKeyRef: { name: DATABASE_CREDENTIALS_SECRET, key: MILVUS_TOKEN_KEY } },
        },
      ]);
    }
    expect(JSON.stringify([...applier.objects.values()])).not.toContain(MILVUS_TOKEN);
    // What was applied is what the driver renders: no drift.
    expect((await services.observe(tenant)).drift).toEqual([]);
  });

  it('puts the token into the access Secret, and applies it again when the token changes', async () => {
    const tenant = await provisioned('milvus');
    const applier = createRecordingApplier();
    await databaseDriver(applier, createTenantMilvusAccess(INSTANCE_ID, PLATFORM)).apply(tenant, {
      component: 'database',
      type: 'ensure-role',
    });
    const [secret] = ofKind<ISecret>(applier, 'Secret');
    const token = secret?.data?.[MILVUS_TOKEN_KEY];
    expect(Buffer.from(token ?? '', 'base64').toString('utf8')).toBe(MILVUS_TOKEN);

    const rotated = createTenantMilvusAccess(INSTANCE_ID, { ...PLATFORM, token: 'root:new' });
    expect((await databaseDriver(applier, rotated).observe(tenant)).credentialsStored).toBe(false);
  });

  it('lets its service pods reach Milvus on its port', async () => {
    const tenant = await provisioned('milvus');
    const applier = createRecordingApplier();
    await createKubernetesNamespaceDriver({
      applier,
      parameters: PARAMETERS,
      milvus: createTenantMilvusAccess(INSTANCE_ID, PLATFORM),
    }).apply(tenant, { component: 'namespace', type: 'ensure' });
    const egress = ofKind<INetworkPolicy>(applier, 'NetworkPolicy').find(
      (policy) => policy.metadata?.name === 'allow-platform-egress',
    )?.spec?.egress;
    expect(egress).toContainEqual({
      to: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'citadel-milvus' } } },
      ],
      ports: [{ protocol: 'TCP', port: 19_530 }],
    });
  });

  it('give a pgvector tenant none of it, on a platform with Milvus', async () => {
    const tenant = await provisioned('pgvector');
    const applier = createRecordingApplier();
    const milvus = createTenantMilvusAccess(INSTANCE_ID, PLATFORM);
    await createKubernetesNamespaceDriver({ applier, parameters: PARAMETERS, milvus }).apply(
      tenant,
      { component: 'namespace', type: 'ensure' },
    );
    await databaseDriver(applier, milvus).apply(tenant, {
      component: 'database',
      type: 'ensure-role',
    });
    await createKubernetesServicesDriver({
      applier,
      parameters: PARAMETERS,
      secrets,
      milvus,
    }).apply(tenant, { component: 'services', type: 'start' });
    for (const env of environmentsOf(applier)) {
      expect(env.map(({ name }) => name).filter((name) => MILVUS_VARIABLES.includes(name))).toEqual(
        [],
      );
    }
    const [secret] = ofKind<ISecret>(applier, 'Secret');
    expect(Object.keys(secret?.data ?? {})).not.toContain(MILVUS_TOKEN_KEY);
    expect(JSON.stringify([...applier.objects.values()])).not.toContain('citadel-milvus');
  });
});
