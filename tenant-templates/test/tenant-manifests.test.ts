import { DATA_PLANE_SERVICES, TENANT_API_VERSION } from '@citadel/contracts';
import { describe, expect, it } from 'vitest';
import {
  DATA_KEY_VERSION_ANNOTATION,
  DATA_KEYS_KEY,
  DATABASE_CREDENTIALS_SECRET,
  DATABASE_URL_KEY,
  GPU_RESOURCE,
  GPU_SERVICES,
  parseBinaryBytes,
  parseCpuMillis,
  renderTenantManifests,
  TEMPLATES_VERSION,
  TEMPLATES_VERSION_LABEL,
  TenantTemplateError,
  type IDeployment,
  type IPodSpec,
  type IResourceQuota,
  type IService,
  type TenantManifest,
} from '../src/index.ts';
import { findTenantManifestProblems } from '../src/validation/index.ts';
import {
  DATA_KEY_ONE,
  DATA_KEY_TWO,
  PLAN_IDS,
  templateInput,
  type PlanId,
  ofKind,
  secretData,
} from './tenant-template-fixtures.ts';

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** Kinds whose names must be DNS-1123 labels (not merely subdomains). */
const LABEL_NAMED_KINDS = new Set(['Namespace', 'Service']);

function render(planId: PlanId): TenantManifest[] {
  return renderTenantManifests(templateInput(planId));
}

function podSpecs(manifests: TenantManifest[]): Array<{ name: string; spec: IPodSpec }> {
  return ofKind(manifests, 'Deployment').map((deployment: IDeployment) => ({
    name: deployment.metadata?.name ?? '',
    spec: deployment.spec?.template.spec ?? { containers: [] },
  }));
}

function quotaOf(manifests: TenantManifest[]): Record<string, unknown> {
  const [quota]: IResourceQuota[] = ofKind(manifests, 'ResourceQuota');
  return quota?.spec?.hard ?? {};
}

function autoscalerOf(manifests: TenantManifest[], name: string | undefined) {
  const autoscaler = ofKind(manifests, 'HorizontalPodAutoscaler').find(
    (candidate) => candidate.metadata?.name === name,
  );
  if (!autoscaler) throw new Error(`no autoscaler for ${name ?? '?'}`);
  return autoscaler;
}

/**
 * What a Deployment can use at most: pods at its autoscaler's maximum plus its surge, and
 * each pod's limits.
 */
function deploymentCeiling(
  manifests: TenantManifest[],
  deployment: IDeployment,
): { pods: number; limits: Record<string, unknown> } {
  const maxReplicas = autoscalerOf(manifests, deployment.metadata?.name).spec.maxReplicas;
  const surge = Number(deployment.spec?.strategy?.rollingUpdate?.maxSurge ?? 0);
  const [pod] = podSpecs([deployment]);
  return { pods: maxReplicas + surge, limits: pod?.spec.containers[0]?.resources?.limits ?? {} };
}

describe.each(PLAN_IDS)('the %s plan', (planId) => {
  const manifests = render(planId);

  it('renders only objects valid against the Kubernetes schemas, with no undeclared field', () => {
    for (const manifest of manifests) {
      expect(findTenantManifestProblems(manifest), manifest.kind).toEqual([]);
    }
  });

  it('renders the namespace objects and the four objects of each enabled service', () => {
    const kinds = manifests.map((manifest) => `${manifest.kind}/${manifest.metadata?.name ?? ''}`);
    expect(kinds.slice(0, 7)).toEqual([
      'Namespace/tenant-acme',
      'ResourceQuota/tenant-quota',
      'LimitRange/tenant-limits',
      'ServiceAccount/data-plane',
      'Role/data-plane',
      'RoleBinding/data-plane',
      `Secret/${DATABASE_CREDENTIALS_SECRET}`,
    ]);
    for (const service of DATA_PLANE_SERVICES) {
      for (const kind of [
        'Deployment',
        'Service',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
      ]) {
        expect(kinds).toContain(`${kind}/${service}`);
      }
    }
  });

  it('labels every object, and every pod, as the tenant’s, with the templates version', () => {
    const expected = {
      'app.kubernetes.io/instance': 'acme',
      'app.kubernetes.io/part-of': 'citadel',
      'app.kubernetes.io/managed-by': 'citadel-operator',
      'citadel.azora.dev/tenant': 'acme',
      'citadel.azora.dev/tenant-uid': '6f1c1f0e-3c2a-4d3e-9a57-0b6f4b0f9d21',
      [TEMPLATES_VERSION_LABEL]: TEMPLATES_VERSION,
    };
    const labelSets = [
      ...manifests.map((manifest) => manifest.metadata?.labels),
      ...ofKind(manifests, 'Deployment').map(
        (deployment) => deployment.spec?.template.metadata?.labels,
      ),
    ];
    for (const labels of labelSets) {
      expect(labels).toMatchObject(expected);
      expect(labels?.['app.kubernetes.io/name']).toMatch(DNS_1123_LABEL);
      for (const value of Object.values(labels ?? {})) expect(value).toMatch(LABEL_VALUE);
    }
  });

  it('makes the Tenant the controlling owner of every object', () => {
    for (const manifest of manifests) {
      expect(manifest.metadata?.ownerReferences).toEqual([
        {
          apiVersion: TENANT_API_VERSION,
          kind: 'Tenant',
          name: 'acme',
          uid: '6f1c1f0e-3c2a-4d3e-9a57-0b6f4b0f9d21',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });

  it('names everything validly and puts every namespaced object in the tenant namespace', () => {
    for (const manifest of manifests) {
      const name = manifest.metadata?.name ?? '';
      const pattern = LABEL_NAMED_KINDS.has(manifest.kind) ? DNS_1123_LABEL : DNS_1123_SUBDOMAIN;
      expect(name).toMatch(pattern);
      expect(name.length).toBeLessThanOrEqual(LABEL_NAMED_KINDS.has(manifest.kind) ? 63 : 253);
      if (manifest.kind !== 'Namespace') expect(manifest.metadata?.namespace).toBe('tenant-acme');
    }
  });

  it('runs every pod under the restricted security profile, with plan-sized resources', () => {
    for (const { spec } of podSpecs(manifests)) {
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const container of spec.containers) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(container.image).toBe('registry.example.com/citadel/data-plane:1.4.2');
        expect(container.readinessProbe?.httpGet?.path).toBe('/healthz');
        expect(container.livenessProbe?.httpGet?.path).toMatch(/\/healthz$/);
        expect(container.resources?.limits).toHaveProperty('cpu');
        expect(container.resources?.requests).toHaveProperty('memory');
      }
    }
  });

  it('fits every service at its maximum replicas, plus a surge pod, within the quota', () => {
    const hard = quotaOf(manifests);
    let cpu = 0;
    let memory = 0;
    for (const deployment of ofKind(manifests, 'Deployment')) {
      const { pods, limits } = deploymentCeiling(manifests, deployment);
      cpu += pods * parseCpuMillis(String(limits.cpu));
      memory += pods * parseBinaryBytes(String(limits.memory));
    }
    expect(cpu).toBeLessThanOrEqual(parseCpuMillis(String(hard['limits.cpu'])));
    expect(memory).toBeLessThanOrEqual(parseBinaryBytes(String(hard['limits.memory'])));
  });

  it('puts the database credentials passed in into the Secret, unchanged', () => {
    const decoded = secretData(manifests);
    expect(decoded).toMatchObject({
      username: 'citadel_prod_acme',
      password: 'p@ss/word:with?odd&chars',
      port: '5432',
    });
    const url = new URL(decoded.url ?? '');
    expect(decodeURIComponent(url.password)).toBe('p@ss/word:with?odd&chars');
    expect(url.pathname).toBe('/citadel_prod_acme');
  });

  it('puts every data key version into the Secret, the active one named, versions ascending', () => {
    expect(secretData(manifests)[DATA_KEYS_KEY]).toBe(
      JSON.stringify({
        active: 2,
        keys: { 1: DATA_KEY_ONE.toString('base64'), 2: DATA_KEY_TWO.toString('base64') },
      }),
    );
  });

  it('hands every host its plan, its data keys and its database URL, these two from the Secret', () => {
    for (const { name, spec } of podSpecs(manifests)) {
      const env = spec.containers[0]?.env ?? [];
      const byName = new Map(env.map((variable) => [variable.name, variable]));
      expect(byName.get('CITADEL_TENANT_PLAN')?.value, name).toBe(planId);
      expect(byName.get('CITADEL_TENANT_DATA_KEYS'), name).toEqual({
        name: 'CITADEL_TENANT_DATA_KEYS',
        valueFrom: { secretKeyRef: { name: DATABASE_CREDENTIALS_SECRET, key: DATA_KEYS_KEY } },
      });
      expect(byName.get('CITADEL_TENANT_DATABASE_URL')?.valueFrom, name).toEqual({
        secretKeyRef: { name: DATABASE_CREDENTIALS_SECRET, key: DATABASE_URL_KEY },
      });
      // No key material is ever written into a pod spec.
      expect(JSON.stringify(spec)).not.toContain(DATA_KEY_TWO.toString('base64'));
    }
  });

  it('serves gRPC on port 50051 in every pod and on every Service', () => {
    for (const { name, spec } of podSpecs(manifests)) {
      const [container] = spec.containers;
      expect(container?.ports, name).toContainEqual({
        name: 'grpc',
        containerPort: 50_051,
        protocol: 'TCP',
      });
      expect(container?.env, name).toContainEqual({ name: 'GRPC_PORT', value: '50051' });
    }
    const services: IService[] = ofKind(manifests, 'Service');
    expect(services).toHaveLength(DATA_PLANE_SERVICES.length);
    for (const service of services) {
      expect(
        service.spec?.ports?.map(({ name, port, targetPort }) => [name, port, targetPort]),
      ).toEqual([
        ['http', 80, 'http'],
        ['grpc', 50_051, 'grpc'],
      ]);
    }
  });

  it('stamps the active data key version on the pods, so that a rotation rolls them', () => {
    for (const deployment of ofKind(manifests, 'Deployment')) {
      expect(deployment.spec?.template.metadata?.annotations).toEqual({
        [DATA_KEY_VERSION_ANNOTATION]: '2',
      });
    }
  });

  it('is deterministic: the same input renders the same objects, and the input is left alone', () => {
    const input = templateInput(planId);
    const before = JSON.stringify(input);
    const first = renderTenantManifests(input);
    const second = renderTenantManifests(structuredClone(input));
    expect(JSON.stringify(first)).toBe(JSON.stringify(second));
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe('GPU entitlement', () => {
  it('quotas GPUs for enterprise only', () => {
    expect(quotaOf(render('starter'))).not.toHaveProperty(`requests.${GPU_RESOURCE}`);
    expect(quotaOf(render('business'))).not.toHaveProperty(`requests.${GPU_RESOURCE}`);
    expect(quotaOf(render('enterprise'))).toHaveProperty(`requests.${GPU_RESOURCE}`, '4');
  });

  it('places enterprise GPU services on the tenant’s own tainted GPU nodes, and nothing else', () => {
    for (const { name, spec } of podSpecs(render('enterprise'))) {
      const gpu = (GPU_SERVICES as readonly string[]).includes(name);
      expect(spec.nodeSelector, name).toEqual(
        gpu
          ? { 'citadel.azora.dev/tenant': 'acme', 'citadel.azora.dev/pool': 'tenant-gpu' }
          : undefined,
      );
      expect(spec.tolerations, name).toEqual(
        gpu
          ? [
              {
                key: 'citadel.azora.dev/tenant',
                operator: 'Equal',
                value: 'acme',
                effect: 'NoSchedule',
              },
            ]
          : undefined,
      );
      expect(spec.containers[0]?.resources?.limits?.[GPU_RESOURCE], name).toBe(
        gpu ? '1' : undefined,
      );
    }
  });

  it('gives no pod a GPU or a toleration on plans without one', () => {
    for (const planId of ['starter', 'business'] as const) {
      for (const { spec } of podSpecs(render(planId))) {
        expect(spec.tolerations).toBeUndefined();
        expect(spec.nodeSelector).toBeUndefined();
        expect(spec.containers[0]?.resources?.limits).not.toHaveProperty(GPU_RESOURCE);
      }
    }
  });

  it('keeps GPU pods off GPU nodes when the tenant turns its pool off', () => {
    const input = templateInput('enterprise');
    input.tenant.spec.resources.gpuPool.enabled = false;
    for (const { spec } of podSpecs(renderTenantManifests(input))) {
      expect(spec.tolerations).toBeUndefined();
    }
  });

  it('never asks for more GPUs at maximum scale than the quota holds', () => {
    const manifests = render('enterprise');
    const gpus = ofKind(manifests, 'Deployment').reduce((sum, deployment) => {
      const { pods, limits } = deploymentCeiling(manifests, deployment);
      return sum + pods * Number(limits[GPU_RESOURCE] ?? 0);
    }, 0);
    expect(gpus).toBe(4);
  });
});

describe('options and refusals', () => {
  it('renders no owner reference when tenants live outside Kubernetes', () => {
    const manifests = renderTenantManifests(
      templateInput('starter', { parameters: { ownedByTenant: false } }),
    );
    for (const manifest of manifests) expect(manifest.metadata?.ownerReferences).toBeUndefined();
  });

  it('renders only the enabled services', () => {
    const input = templateInput('business');
    input.tenant.spec.services = ['library'];
    const names = renderTenantManifests(input)
      .filter((manifest) => manifest.kind === 'Deployment')
      .map((manifest) => manifest.metadata?.name);
    expect(names).toEqual(['library']);
  });

  it('scales a suspended tenant to zero and drops its autoscalers', () => {
    const input = templateInput('business');
    input.tenant.spec.suspended = true;
    const manifests = renderTenantManifests(input);
    expect(ofKind(manifests, 'HorizontalPodAutoscaler')).toEqual([]);
    for (const deployment of ofKind(manifests, 'Deployment'))
      expect(deployment.spec?.replicas).toBe(0);
  });

  it('leaves replicas to the autoscaler while the tenant runs', () => {
    for (const deployment of ofKind(render('business'), 'Deployment')) {
      expect(deployment.spec).not.toHaveProperty('replicas');
    }
  });

  it.each([
    ['invalid-slug', templateInput('starter', { slug: 'Not_A_Slug' })],
    ['invalid-slug', templateInput('starter', { slug: 'admin' })],
    [
      'invalid-image',
      templateInput('starter', {
        parameters: {
          image: { repository: 'registry.example.com/citadel/data-plane', tag: 'latest' },
        },
      }),
    ],
    [
      'invalid-parameter',
      templateInput('starter', {
        parameters: {
          platformEndpoints: [{ name: 'db', port: 70_000, destination: { cidr: '10.0.0.0/8' } }],
        },
      }),
    ],
  ])('refuses input it cannot render (%s)', (code, input) => {
    expect(() => renderTenantManifests(input)).toThrow(expect.objectContaining({ code }));
    expect(() => renderTenantManifests(input)).toThrow(TenantTemplateError);
  });

  it.each([
    ['an active version that is not among the keys', { activeVersion: 3 }, 'version 3 is not'],
    [
      'a key that is not 256 bits',
      { keys: [{ version: 2, key: DATA_KEY_TWO.subarray(0, 16) }] },
      'version 2 has 16 bytes',
    ],
    [
      'a version given twice',
      {
        keys: [
          { version: 2, key: DATA_KEY_TWO },
          { version: 2, key: DATA_KEY_ONE },
        ],
      },
      'version 2 is invalid',
    ],
    ['a version of zero', { keys: [{ version: 0, key: DATA_KEY_TWO }] }, 'version 0 is invalid'],
  ])('refuses data keys with %s, and never shows a key', (_case, change, message) => {
    const input = templateInput('starter');
    input.parameters.dataKeys = { ...input.parameters.dataKeys, ...change };
    const error = (() => {
      try {
        renderTenantManifests(input);
      } catch (caught) {
        return caught as TenantTemplateError;
      }
      throw new Error('rendered');
    })();
    expect(error).toBeInstanceOf(TenantTemplateError);
    expect(error.code).toBe('invalid-data-keys');
    expect(error.message).toContain(message);
    for (const key of [DATA_KEY_ONE, DATA_KEY_TWO]) {
      expect(error.message).not.toContain(key.toString('base64').slice(0, 12));
      expect(error.message).not.toContain(key.toString('hex').slice(0, 12));
    }
  });

  it('refuses a plan other than the tenant’s', () => {
    const input = { ...templateInput('starter'), plan: templateInput('enterprise').plan };
    expect(() => renderTenantManifests(input)).toThrow(
      expect.objectContaining({ code: 'plan-mismatch' }),
    );
  });
});
