/**
 * The Tenant CustomResourceDefinition, generated from the contracts: the spec's schema is
 * the zod schema the REST API validates with, converted to a Kubernetes structural schema
 * and refined with what only Kubernetes can say (CEL rules, list types, defaults).
 * `npm run crd:generate` writes it to `operators/crd/`; a unit test fails when that file
 * is stale. See ADR 12.
 */
import {
  DATA_PLANE_SERVICES,
  RESERVED_TENANT_SLUGS,
  TENANT_API_VERSION,
  TENANT_KIND,
  TENANT_PHASES,
  TENANT_SLUG_MAX_LENGTH,
  TENANT_SLUG_MIN_LENGTH,
  TENANT_SLUG_PATTERN,
  tenantConditionSchema,
  tenantEndpointsSchema,
  tenantSpecSchema,
  type TenantStatus,
} from '@citadel/contracts';
import type { ICustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { stringify } from 'yaml';
import { z } from 'zod';
import { findStructuralSchemaViolations } from './structural-schema-violations.ts';
import { type IJSONSchemaProps, refineSchema, toStructuralSchema } from './structural-schema.ts';

const [TENANT_GROUP = '', TENANT_VERSION = ''] = TENANT_API_VERSION.split('/');
export { TENANT_GROUP, TENANT_VERSION };
export const TENANT_PLURAL = 'tenants';
export const TENANT_CRD_NAME = `${TENANT_PLURAL}.${TENANT_GROUP}`;

/** Where the generated CRD is committed, relative to the repository root. */
export const TENANT_CRD_PATH = `operators/crd/${TENANT_CRD_NAME}.yaml`;

/**
 * The status the reconciler writes, as a zod schema. The contracts keep `TenantStatus` as
 * an interface; `satisfies` keeps the two from drifting apart.
 */
export const tenantStatusSchema = z.strictObject({
  phase: z.enum(TENANT_PHASES),
  observedGeneration: z.number().int().nonnegative(),
  conditions: z.array(tenantConditionSchema),
  endpoints: tenantEndpointsSchema,
}) satisfies z.ZodType<TenantStatus>;

const DNS_LABEL = TENANT_SLUG_PATTERN.source;

function celStringList(values: Iterable<string>): string {
  return `[${[...values].map((value) => `'${value}'`).join(', ')}]`;
}

/** What Kubernetes adds to the spec's zod schema. */
const SPEC_REFINEMENTS: Readonly<Record<string, IJSONSchemaProps>> = {
  slug: {
    description: 'The tenant slug: a DNS-1123 label, equal to metadata.name. Immutable.',
    minLength: TENANT_SLUG_MIN_LENGTH,
    maxLength: TENANT_SLUG_MAX_LENGTH,
    pattern: DNS_LABEL,
    'x-kubernetes-validations': [
      { rule: 'self == oldSelf', message: 'slug is immutable' },
      {
        rule: `!(self in ${celStringList([...RESERVED_TENANT_SLUGS].sort())})`,
        message: 'slug is reserved by the platform',
      },
    ],
  },
  displayName: { minLength: 1, maxLength: 200 },
  plan: {
    description: 'A plan id from the plan catalog, e.g. starter, business, enterprise.',
    minLength: 1,
    maxLength: 63,
    pattern: DNS_LABEL,
  },
  region: { minLength: 1, maxLength: 63, pattern: DNS_LABEL },
  suspended: {
    description: 'A suspended tenant keeps its data but serves nothing.',
    default: false,
  },
  isolation: { default: {} },
  'isolation.networkPolicy': { default: 'default-deny' },
  'isolation.dedicatedDatabase': { default: true },
  'resources.gpuPool': {
    'x-kubernetes-validations': [
      { rule: 'self.min <= self.max', message: 'min must not exceed max' },
      {
        rule: '!self.enabled || size(self.instanceType) > 0',
        message: 'an enabled GPU pool needs an instance type',
      },
    ],
  },
  'resources.gpuPool.instanceType': { maxLength: 63 },
  services: {
    description: 'The data-plane services to run.',
    maxItems: DATA_PLANE_SERVICES.length,
    'x-kubernetes-list-type': 'set',
  },
};

const STATUS_REFINEMENTS: Readonly<Record<string, IJSONSchemaProps>> = {
  observedGeneration: { format: 'int64' },
  conditions: {
    description: 'One condition per component, keyed by type.',
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  },
  'conditions[].observedGeneration': { format: 'int64' },
  'conditions[].reason': { maxLength: 1024 },
  'conditions[].message': { maxLength: 32_768 },
  endpoints: { description: 'Where the tenant is served, e.g. gateway, library.' },
};

/** The whole `openAPIV3Schema` of the Tenant resource. */
export function tenantOpenApiSchema(): IJSONSchemaProps {
  const spec = refineSchema(
    toStructuralSchema(z.toJSONSchema(tenantSpecSchema), '.spec'),
    SPEC_REFINEMENTS,
  );
  const status = refineSchema(
    toStructuralSchema(z.toJSONSchema(tenantStatusSchema), '.status'),
    STATUS_REFINEMENTS,
  );
  return {
    type: 'object',
    description:
      'A tenant of Citadel: the desired state of its isolated data plane, and what the operator observed.',
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: { ...spec, description: 'Desired state of the tenant’s data plane.' },
      status: { ...status, description: 'Observed state, written by the operator.' },
    },
    'x-kubernetes-validations': [
      {
        rule: 'self.metadata.name == self.spec.slug',
        message: 'metadata.name must equal spec.slug',
      },
    ],
  };
}

function column(name: string, jsonPath: string, extra: { type?: string; priority?: number } = {}) {
  return {
    name,
    type: extra.type ?? 'string',
    jsonPath,
    ...(extra.priority ? { priority: extra.priority } : {}),
  };
}

/**
 * The Tenant CRD. Cluster-scoped: a tenant owns a namespace (and a GPU node group, cloud
 * keys), so it cannot live inside one. Throws when the schema is not structural.
 */
export function tenantCustomResourceDefinition(): ICustomResourceDefinition {
  const schema = tenantOpenApiSchema();
  const violations = findStructuralSchemaViolations(schema);
  if (violations.length > 0) {
    throw new Error(`the Tenant schema is not structural:\n${violations.join('\n')}`);
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: TENANT_CRD_NAME,
      labels: { 'app.kubernetes.io/part-of': 'citadel', 'app.kubernetes.io/component': 'operator' },
    },
    spec: {
      group: TENANT_GROUP,
      scope: 'Cluster',
      names: {
        kind: TENANT_KIND,
        listKind: `${TENANT_KIND}List`,
        plural: TENANT_PLURAL,
        singular: TENANT_KIND.toLowerCase(),
        shortNames: ['ctn'],
        categories: ['citadel'],
      },
      versions: [
        {
          name: TENANT_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            column('Phase', '.status.phase'),
            column('Plan', '.spec.plan'),
            column('Ready', '.status.conditions[?(@.type=="ServicesReady")].status'),
            column('Region', '.spec.region', { priority: 1 }),
            column('Age', '.metadata.creationTimestamp', { type: 'date' }),
          ],
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}

/** The committed YAML form of the CRD: a header saying where it comes from, then the object. */
export function tenantCrdYaml(): string {
  const header = [
    '# Generated by `npm run crd:generate` from packages/contracts (tenant-resource.ts).',
    '# Do not edit: change the contracts or operators/src/kubernetes/tenant-crd.ts instead.',
  ].join('\n');
  return `${header}\n${stringify(tenantCustomResourceDefinition(), { lineWidth: 0, singleQuote: true })}`;
}
