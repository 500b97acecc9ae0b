import { findTenantSlugProblem, TENANT_SLUG_PATTERN } from '@citadel/contracts';
import type { IObjectMeta } from './kubernetes-types.ts';
import { tenantSizing, type TenantSizing } from './service-sizing.ts';
import {
  type AppIdentity,
  tenantLabels,
  tenantNamespaceName,
  tenantOwnerReferences,
} from './tenant-labels.ts';
import { TenantTemplateError } from './tenant-template-error.ts';
import type {
  TenantDataKeySet,
  TenantMilvusDatabase,
  TenantTemplateInput,
} from './tenant-template-input.ts';

/** The input, checked, with what every template derives from it computed once. */
export interface TemplateContext extends TenantTemplateInput {
  namespace: string;
  sizing: TenantSizing;
}

/** The port every data-plane host listens on inside its pod. */
export const SERVICE_CONTAINER_PORT = 8080;
/** The port each tenant Service exposes. */
export const SERVICE_PORT = 80;
/** The port a data-plane host serves gRPC on (`GRPC_PORT`), in its pod and on its Service. */
export const SERVICE_GRPC_PORT = 50_051;

const LABEL_VALUE_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function checkTenant(input: TenantTemplateInput): void {
  const { spec, uid } = input.tenant;
  const slugProblem = findTenantSlugProblem(spec.slug);
  if (slugProblem) {
    throw new TenantTemplateError('invalid-slug', `tenant slug ${spec.slug}: ${slugProblem}`);
  }
  if (!LABEL_VALUE_PATTERN.test(uid)) {
    throw new TenantTemplateError('invalid-uid', `tenant uid is not a label value: ${uid}`);
  }
  if (spec.plan !== input.plan.id) {
    throw new TenantTemplateError(
      'plan-mismatch',
      `tenant ${spec.slug} is on plan ${spec.plan}, not ${input.plan.id}`,
    );
  }
}

function checkParameters(input: TenantTemplateInput): void {
  const { image, gateway, platformEndpoints } = input.parameters;
  if (!/^[a-z0-9][a-z0-9._/:-]*$/.test(image.repository) || image.repository.includes('@')) {
    throw new TenantTemplateError('invalid-image', `not an image repository: ${image.repository}`);
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(image.tag) || image.tag === 'latest') {
    throw new TenantTemplateError('invalid-image', `image tag must be pinned: ${image.tag}`);
  }
  if (!TENANT_SLUG_PATTERN.test(gateway.namespace)) {
    throw new TenantTemplateError('invalid-parameter', `gateway namespace ${gateway.namespace}`);
  }
  for (const endpoint of platformEndpoints) {
    if (!TENANT_SLUG_PATTERN.test(endpoint.name) || !isPort(endpoint.port)) {
      throw new TenantTemplateError('invalid-parameter', `platform endpoint ${endpoint.name}`);
    }
  }
}

const DATA_KEY_BYTES = 32;
const MAX_DATA_KEY_VERSION = 0xffff_ffff;

/** Distinct versions, 256-bit keys, the active one among them; messages never show a key. */
function checkDataKeys({ activeVersion, keys }: TenantDataKeySet): void {
  const versions = new Set<number>();
  for (const { version, key } of keys) {
    const valid = Number.isInteger(version) && version >= 1 && version <= MAX_DATA_KEY_VERSION;
    if (!valid || versions.has(version)) {
      throw new TenantTemplateError('invalid-data-keys', `data key version ${version} is invalid`);
    }
    if (key.byteLength !== DATA_KEY_BYTES) {
      throw new TenantTemplateError(
        'invalid-data-keys',
        `data key version ${version} has ${key.byteLength} bytes, not ${DATA_KEY_BYTES}`,
      );
    }
    versions.add(version);
  }
  if (!versions.has(activeVersion)) {
    throw new TenantTemplateError(
      'invalid-data-keys',
      `the active data key version ${activeVersion} is not among the keys`,
    );
  }
}

/** Milvus database names: a letter or underscore, then letters, digits, underscores. */
const MILVUS_DATABASE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/**
 * Only a milvus tenant is given Milvus, and what it is given is well formed; messages never
 * show the token.
 */
function checkMilvus(input: TenantTemplateInput, milvus: TenantMilvusDatabase): void {
  const { slug, resources } = input.tenant.spec;
  if (resources.vectorStore.engine !== 'milvus') {
    throw new TenantTemplateError(
      'invalid-parameter',
      `tenant ${slug} keeps its vectors in ${resources.vectorStore.engine}, not Milvus`,
    );
  }
  if (!/^\S+$/.test(milvus.address)) {
    throw new TenantTemplateError('invalid-parameter', `Milvus address ${milvus.address}`);
  }
  if (!isPort(milvus.egress.port)) {
    throw new TenantTemplateError('invalid-parameter', `Milvus port ${milvus.egress.port}`);
  }
  if (!MILVUS_DATABASE_PATTERN.test(milvus.database)) {
    throw new TenantTemplateError('invalid-parameter', `Milvus database ${milvus.database}`);
  }
  if (milvus.token === '') {
    throw new TenantTemplateError('invalid-parameter', 'the Milvus token is empty');
  }
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65_535;
}

/** Checks the input and derives what the templates share; throws {@link TenantTemplateError}. */
export function createTemplateContext(input: TenantTemplateInput): TemplateContext {
  checkTenant(input);
  checkParameters(input);
  checkDataKeys(input.parameters.dataKeys);
  if (input.parameters.milvus) checkMilvus(input, input.parameters.milvus);
  return {
    ...input,
    namespace: tenantNamespaceName(input.tenant.spec.slug),
    sizing: tenantSizing(input.tenant, input.plan),
  };
}

/** Metadata of a namespaced object in the tenant's namespace. */
export function namespacedMeta(
  context: TemplateContext,
  name: string,
  app: AppIdentity,
): IObjectMeta {
  const { labels, ownerReferences } = clusterMeta(context, name, app);
  return {
    name,
    namespace: context.namespace,
    labels,
    ...(ownerReferences ? { ownerReferences } : {}),
  };
}

/** Metadata of a cluster-scoped object (the Namespace). */
export function clusterMeta(context: TemplateContext, name: string, app: AppIdentity): IObjectMeta {
  return {
    name,
    labels: tenantLabels(context.tenant, app),
    ...(context.parameters.ownedByTenant
      ? { ownerReferences: tenantOwnerReferences(context.tenant) }
      : {}),
  };
}
