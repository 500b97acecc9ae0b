import { describe, expect, it } from 'vitest';
import {
  DATABASE_CREDENTIALS_SECRET,
  MILVUS_TOKEN_KEY,
  renderTenantManifests,
  TenantTemplateError,
  type IDeployment,
  type INetworkPolicy,
  type TenantManifest,
} from '../src/index.ts';
import { findTenantManifestProblems } from '../src/validation/index.ts';
import { isConnectionAllowed, type PodEndpoint } from './network-policy-evaluator.ts';
import {
  MILVUS_CIDR,
  MILVUS_TOKEN,
  milvusDatabase,
  milvusTemplateInput,
  PLAN_IDS,
  templateInput,
  ofKind,
  secretData,
} from './tenant-template-fixtures.ts';

const MILVUS_VARIABLES = [
  'CITADEL_VECTOR_ENGINE',
  'CITADEL_MILVUS_ADDRESS',
  'CITADEL_MILVUS_DATABASE',
  'CITADEL_MILVUS_TOKEN',
];

function environmentOf(deployment: IDeployment) {
  return deployment.spec?.template.spec?.containers[0]?.env ?? [];
}

function isMilvusEgress(rule: NonNullable<NonNullable<INetworkPolicy['spec']>['egress']>[number]) {
  return rule.to?.some((peer) => peer.ipBlock?.cidr === MILVUS_CIDR) ?? false;
}

function removeMilvusEnvironment(deployment: IDeployment): void {
  const container = deployment.spec?.template.spec?.containers[0];
  if (container?.env) {
    container.env = container.env.filter(({ name }) => !MILVUS_VARIABLES.includes(name));
  }
}

/** The manifest less what a milvus tenant is given: its env, its token, its egress. */
function withoutMilvus(manifest: TenantManifest): TenantManifest {
  const copy = structuredClone(manifest);
  if (copy.kind === 'Deployment') removeMilvusEnvironment(copy);
  if (copy.kind === 'Secret') {
    const { [MILVUS_TOKEN_KEY]: _token, ...data } = copy.data ?? {};
    copy.data = data;
  }
  if (copy.kind === 'NetworkPolicy' && copy.spec?.egress) {
    copy.spec.egress = copy.spec.egress.filter((rule) => !isMilvusEgress(rule));
  }
  return copy;
}

function librarySide(namespace = 'tenant-acme'): PodEndpoint {
  return {
    namespace,
    ip: '10.1.0.10',
    labels: {
      'app.kubernetes.io/name': 'library',
      'app.kubernetes.io/component': 'data-plane-service',
      'citadel.azora.dev/tenant': 'acme',
    },
  };
}

describe.each(PLAN_IDS)('a milvus tenant on the %s plan', (planId) => {
  const manifests = renderTenantManifests(milvusTemplateInput(planId, milvusDatabase()));

  it('renders only objects valid against the Kubernetes schemas', () => {
    for (const manifest of manifests) {
      expect(findTenantManifestProblems(manifest), manifest.kind).toEqual([]);
    }
  });

  it('tells every host to search its own Milvus database, the token by reference only', () => {
    const deployments = ofKind(manifests, 'Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const deployment of deployments) {
      const env = environmentOf(deployment);
      expect(env.filter(({ name }) => MILVUS_VARIABLES.includes(name))).toEqual([
        { name: 'CITADEL_VECTOR_ENGINE', value: 'milvus' },
        { name: 'CITADEL_MILVUS_ADDRESS', value: 'milvus.vectors.example.internal:19530' },
        { name: 'CITADEL_MILVUS_DATABASE', value: 'citadel_prod01_acme' },
        {
          name: 'CITADEL_MILVUS_TOKEN',
          valueFrom: { secretKeyRef: { name: DATABASE_CREDENTIALS_SECRET, key: MILVUS_TOKEN_KEY } },
        },
      ]);
    }
  });

  it('keeps the token in the access Secret, and in no other object', () => {
    expect(secretData(manifests)[MILVUS_TOKEN_KEY]).toBe(MILVUS_TOKEN);
    const others = JSON.stringify(manifests.filter((manifest) => manifest.kind !== 'Secret'));
    expect(others).not.toContain(MILVUS_TOKEN);
    expect(others).not.toContain(Buffer.from(MILVUS_TOKEN).toString('base64'));
  });

  it('differs from the same tenant given no Milvus by its env, its token and its egress only', () => {
    const unconfigured = renderTenantManifests(milvusTemplateInput(planId, undefined));
    expect(manifests.map(withoutMilvus)).toEqual(unconfigured);
  });
});

describe('a milvus tenant on a platform whose Milvus asks no token', () => {
  it('gets its Milvus settings, with no token reference nor Secret key', () => {
    const { token: _none, ...withoutToken } = milvusDatabase();
    const manifests = renderTenantManifests(milvusTemplateInput('starter', withoutToken));
    expect(Object.keys(secretData(manifests))).not.toContain(MILVUS_TOKEN_KEY);
    for (const deployment of ofKind(manifests, 'Deployment')) {
      const names = environmentOf(deployment).map(({ name }) => name);
      expect(names).toContain('CITADEL_MILVUS_DATABASE');
      expect(names).not.toContain('CITADEL_MILVUS_TOKEN');
    }
  });
});

describe('a pgvector tenant', () => {
  it.each(PLAN_IDS)('on the %s plan renders as if Milvus did not exist', (planId) => {
    const manifests = renderTenantManifests(templateInput(planId));
    for (const deployment of ofKind(manifests, 'Deployment')) {
      const names = environmentOf(deployment).map(({ name }) => name);
      expect(names.filter((name) => MILVUS_VARIABLES.includes(name))).toEqual([]);
    }
    expect(Object.keys(secretData(manifests))).not.toContain(MILVUS_TOKEN_KEY);
    const egress = ofKind(manifests, 'NetworkPolicy').flatMap(
      (policy) => policy.spec?.egress ?? [],
    );
    expect(egress.filter((rule) => isMilvusEgress(rule))).toEqual([]);
    // Its spec is all the templates read of the engine: a milvus tenant given no Milvus
    // renders the very same objects.
    expect(renderTenantManifests(milvusTemplateInput(planId, undefined))).toEqual(manifests);
  });
});

describe('a milvus tenant’s network policies', () => {
  const policiesOf = (manifests: TenantManifest[]) => ofKind(manifests, 'NetworkPolicy');
  const library = librarySide();
  const strayPod: PodEndpoint = { namespace: 'tenant-acme', ip: '10.1.0.11', labels: {} };
  const milvusServer = { ip: '10.30.0.7' };

  it('let its services reach Milvus outside the cluster on Milvus’s port, and no further', () => {
    const policies = policiesOf(
      renderTenantManifests(milvusTemplateInput('business', milvusDatabase())),
    );
    const allowed = (from: PodEndpoint, to: { ip: string }, port: number) =>
      isConnectionAllowed(policies, { from, to, port });
    expect(allowed(library, milvusServer, 19_530)).toBe(true);
    expect(allowed(library, milvusServer, 22)).toBe(false);
    expect(allowed(library, { ip: '10.31.0.7' }, 19_530)).toBe(false);
    expect(allowed(strayPod, milvusServer, 19_530)).toBe(false);
  });

  it('let its services reach a Milvus inside the cluster, in its namespace', () => {
    const milvus = milvusDatabase({
      address: 'milvus.citadel-milvus.svc.cluster.local:19530',
      egress: { port: 19_530, destination: { namespace: 'citadel-milvus' } },
    });
    const input = milvusTemplateInput('starter', milvus);
    const policies = policiesOf(
      renderTenantManifests({
        ...input,
        parameters: { ...input.parameters, platformEndpoints: [] },
      }),
    );
    const milvusPod: PodEndpoint = { namespace: 'citadel-milvus', ip: '10.1.0.40', labels: {} };
    const elsewhere: PodEndpoint = { ...milvusPod, namespace: 'default' };
    expect(isConnectionAllowed(policies, { from: library, to: milvusPod, port: 19_530 })).toBe(
      true,
    );
    expect(isConnectionAllowed(policies, { from: library, to: elsewhere, port: 19_530 })).toBe(
      false,
    );
  });

  it('are not a pgvector tenant’s: its services cannot reach Milvus', () => {
    const policies = policiesOf(renderTenantManifests(templateInput('business')));
    expect(isConnectionAllowed(policies, { from: library, to: milvusServer, port: 19_530 })).toBe(
      false,
    );
  });
});

describe('Milvus settings the templates refuse', () => {
  it.each([
    ['a pgvector tenant', templateInput('starter', { parameters: { milvus: milvusDatabase() } })],
    [
      'a database name Milvus refuses',
      milvusTemplateInput('starter', milvusDatabase({ database: 'citadel-acme' })),
    ],
    [
      'a port out of range',
      milvusTemplateInput(
        'starter',
        milvusDatabase({ egress: { port: 0, destination: { cidr: MILVUS_CIDR } } }),
      ),
    ],
    [
      'an address with spaces',
      milvusTemplateInput('starter', milvusDatabase({ address: 'a b:1' })),
    ],
    ['an empty token', milvusTemplateInput('starter', milvusDatabase({ token: '' }))],
  ])('for %s, and never show the token', (_case, input) => {
    let error: unknown;
    try {
      renderTenantManifests(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TenantTemplateError);
    expect(error).toMatchObject({ code: 'invalid-parameter' });
    expect((error as Error).message).not.toContain(MILVUS_TOKEN);
  });
});
