import { readFile } from 'node:fs/promises';
import {
  defaultTenantSpec,
  PLAN_CATALOG,
  TENANT_CONDITION_TYPES,
  type TenantSpec,
  type TenantStatus,
} from '@citadel/contracts';
import { findKubernetesObjectProblems } from '@citadel/tenant-templates/validation';
import { Ajv } from 'ajv';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findStructuralSchemaViolations } from '../src/kubernetes/structural-schema-violations.ts';
import {
  TENANT_CRD_PATH,
  tenantCrdYaml,
  tenantCustomResourceDefinition,
  tenantOpenApiSchema,
} from '../src/kubernetes/tenant-crd.ts';

const repositoryRoot = new URL('../../', import.meta.url);
const crd = tenantCustomResourceDefinition();
const [version] = crd.spec.versions;
const schema = tenantOpenApiSchema();

/** The Tenant schema as a validator of whole objects (CEL rules and list types aside). */
const validateTenant = new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(
  schema,
);

function tenant(spec: TenantSpec, status?: TenantStatus): Record<string, unknown> {
  return {
    apiVersion: 'citadel.azora.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name: spec.slug },
    spec,
    ...(status ? { status } : {}),
  };
}

function specOn(planId: string): TenantSpec {
  const plan = PLAN_CATALOG.find((candidate) => candidate.id === planId);
  if (!plan) throw new Error(`no plan ${planId}`);
  return defaultTenantSpec({ slug: 'acme', displayName: 'Acme', plan, region: 'eu-west-1' });
}

describe('the Tenant CRD', () => {
  it('is committed, and the committed YAML is what the contracts generate now', async () => {
    const committed = await readFile(new URL(TENANT_CRD_PATH, repositoryRoot), 'utf8');
    expect(committed, 'stale: run npm run crd:generate').toBe(tenantCrdYaml());
    expect(parse(committed)).toEqual(crd);
  });

  it('is a valid apiextensions.k8s.io/v1 CustomResourceDefinition, with no undeclared field', () => {
    // kubernetes-models' compiled validators leave out every property named `description`
    // or `x-…`, which JSONSchemaProps declares: allow those inside the schema only. The
    // structural check below looks at the x-kubernetes-* extensions.
    const isDeclared = (key: string, path: string) =>
      path.includes('.openAPIV3Schema') &&
      (key === 'description' || key.startsWith('x-kubernetes-'));
    expect(findKubernetesObjectProblems(crd, CustomResourceDefinition, { isDeclared })).toEqual([]);
  });

  it('has a structural schema', () => {
    expect(findStructuralSchemaViolations(schema)).toEqual([]);
  });

  it('is the cluster-scoped citadel.azora.dev/v1alpha1 Tenant, with a status subresource', () => {
    expect(crd.metadata?.name).toBe('tenants.citadel.azora.dev');
    expect(crd.spec).toMatchObject({
      group: 'citadel.azora.dev',
      scope: 'Cluster',
      names: { kind: 'Tenant', plural: 'tenants', singular: 'tenant', shortNames: ['ctn'] },
    });
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true });
    expect(version?.subresources).toEqual({ status: {} });
  });

  it('prints phase, plan, readiness and age', () => {
    const columns = version?.additionalPrinterColumns?.filter((column) => !column.priority);
    expect(columns?.map((column) => [column.name, column.jsonPath])).toEqual([
      ['Phase', '.status.phase'],
      ['Plan', '.spec.plan'],
      ['Ready', '.status.conditions[?(@.type=="ServicesReady")].status'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('guards what the schema alone cannot with CEL: an immutable slug equal to the name', () => {
    const slug = schema.properties?.spec?.properties?.slug;
    expect(slug?.['x-kubernetes-validations']?.map((rule) => rule.rule)).toContain(
      'self == oldSelf',
    );
    expect(schema['x-kubernetes-validations']?.[0]?.rule).toBe(
      'self.metadata.name == self.spec.slug',
    );
  });

  it('keys conditions by type, so that server-side apply merges them one by one', () => {
    const conditions = schema.properties?.status?.properties?.conditions;
    expect(conditions?.['x-kubernetes-list-type']).toBe('map');
    expect(conditions?.['x-kubernetes-list-map-keys']).toEqual(['type']);
  });
});

describe('the Tenant schema', () => {
  it.each(PLAN_CATALOG.map((plan) => plan.id))(
    'accepts the spec the control plane creates on %s',
    (planId) => {
      expect(validateTenant(tenant(specOn(planId))), JSON.stringify(validateTenant.errors)).toBe(
        true,
      );
    },
  );

  it('accepts the status the reconciler writes', () => {
    const status: TenantStatus = {
      phase: 'Ready',
      observedGeneration: 3,
      conditions: TENANT_CONDITION_TYPES.map((type) => ({
        type,
        status: 'True',
        reason: 'Ready',
        message: 'ok',
        lastTransitionTime: '2026-11-24T10:00:00.000Z',
        observedGeneration: 3,
      })),
      endpoints: { gateway: 'https://citadel.example.com/t/acme' },
    };
    expect(validateTenant(tenant(specOn('starter'), status))).toBe(true);
  });

  it('leaves out of required what the API server defaults', () => {
    const spec = specOn('starter');
    const { suspended: _suspended, isolation: _isolation, ...rest } = spec;
    expect(validateTenant(tenant(rest as TenantSpec))).toBe(true);
    expect(schema.properties?.spec?.properties?.suspended?.default).toBe(false);
  });

  it.each([
    ['a slug that is not a DNS label', { slug: 'Not_A_Slug' }],
    ['a slug too long', { slug: 'a'.repeat(41) }],
    ['a service that does not exist', { services: ['mining'] }],
    ['an empty display name', { displayName: '' }],
  ])('refuses %s', (_case, override) => {
    expect(validateTenant(tenant({ ...specOn('starter'), ...override } as TenantSpec))).toBe(false);
  });

  it('refuses sizes outside their bounds', () => {
    const spec = specOn('business');
    spec.resources.database.storageGi = 0;
    expect(validateTenant(tenant(spec))).toBe(false);
    const wide = specOn('business');
    wide.resources.vectorStore.dimensions = 20_000;
    expect(validateTenant(tenant(wide))).toBe(false);
  });
});
