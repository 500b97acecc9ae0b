import { defaultTenantSpec, findPlan, type PlanDefinition } from '@citadel/contracts';
import type {
  ISecret,
  TenantManifest,
  TenantMilvusDatabase,
  TenantTemplateInput,
  TenantTemplateParameters,
} from '../src/index.ts';

export const PLAN_IDS = ['starter', 'business', 'enterprise'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export const DATABASE_CIDR = '10.20.0.0/24';
/** Two versions of a tenant's data keys, the second active, as after one rotation. */
export const DATA_KEY_ONE = Buffer.alloc(32, 0x11);
export const DATA_KEY_TWO = Buffer.alloc(32, 0x22);
export const GATEWAY_NAMESPACE = 'citadel-system';
/** The platform's Milvus, outside the cluster: a network of its own, a token. */
export const MILVUS_CIDR = '10.30.0.0/24';
export const MILVUS_TOKEN = 'root:M1lvus/token+with=odd&chars';

export function planById(id: PlanId): PlanDefinition {
  const plan = findPlan(id);
  if (!plan) throw new Error(`plan ${id} is missing from the catalog`);
  return plan;
}

export function templateParameters(
  overrides: Partial<TenantTemplateParameters> = {},
): TenantTemplateParameters {
  return {
    image: { repository: 'registry.example.com/citadel/data-plane', tag: '1.4.2' },
    gateway: { namespace: GATEWAY_NAMESPACE, podLabels: { 'app.kubernetes.io/name': 'gateway' } },
    platformEndpoints: [
      { name: 'database', port: 5432, destination: { cidr: DATABASE_CIDR } },
      {
        name: 'vector-store',
        port: 19530,
        destination: { namespace: 'milvus', podLabels: { 'app.kubernetes.io/name': 'milvus' } },
      },
      {
        name: 'token-keys',
        port: 8080,
        destination: { namespace: GATEWAY_NAMESPACE, podLabels: { app: 'control-plane' } },
      },
    ],
    databaseCredentials: {
      host: 'postgres.citadel.internal',
      port: 5432,
      database: 'citadel_prod_acme',
      username: 'citadel_prod_acme',
      password: 'p@ss/word:with?odd&chars',
    },
    dataKeys: {
      activeVersion: 2,
      keys: [
        { version: 2, key: DATA_KEY_TWO },
        { version: 1, key: DATA_KEY_ONE },
      ],
    },
    tokenIssuer: {
      issuer: 'https://citadel.example.com',
      jwksUrl: 'https://citadel.example.com/.well-known/jwks.json',
    },
    ownedByTenant: true,
    ...overrides,
  };
}

/** A tenant on `planId` exactly as the control plane creates one. */
export function templateInput(
  planId: PlanId,
  overrides: { slug?: string; parameters?: Partial<TenantTemplateParameters> } = {},
): TenantTemplateInput {
  const plan = planById(planId);
  const slug = overrides.slug ?? 'acme';
  return {
    tenant: {
      uid: '6f1c1f0e-3c2a-4d3e-9a57-0b6f4b0f9d21',
      spec: defaultTenantSpec({ slug, displayName: 'Acme', plan, region: 'eu-west-1' }),
    },
    plan,
    parameters: templateParameters(overrides.parameters),
  };
}

/** The tenant's Milvus database as the operator gives it (`acme` on instance `prod01`). */
export function milvusDatabase(
  overrides: Partial<TenantMilvusDatabase> = {},
): TenantMilvusDatabase {
  return {
    address: 'milvus.vectors.example.internal:19530',
    egress: { port: 19_530, destination: { cidr: MILVUS_CIDR } },
    database: 'citadel_prod01_acme',
    token: MILVUS_TOKEN,
    ...overrides,
  };
}

/**
 * A tenant on `planId` whose spec asks for Milvus (`resources.vectorStore.engine`), given
 * `milvus` (undefined: given none).
 */
export function milvusTemplateInput(
  planId: PlanId,
  milvus: TenantMilvusDatabase | undefined,
): TenantTemplateInput {
  const input = templateInput(planId, { parameters: milvus ? { milvus } : {} });
  input.tenant.spec.resources.vectorStore.engine = 'milvus';
  return input;
}

/** The manifests of one kind, typed as that kind. */
export function ofKind<Kind extends TenantManifest['kind']>(
  manifests: TenantManifest[],
  kind: Kind,
): Array<Extract<TenantManifest, { kind: Kind }>> {
  return manifests.filter(
    (manifest): manifest is Extract<TenantManifest, { kind: Kind }> => manifest.kind === kind,
  );
}

/** The access Secret's values, decoded. */
export function secretData(manifests: TenantManifest[]): Record<string, string> {
  const [secret]: ISecret[] = ofKind(manifests, 'Secret');
  return Object.fromEntries(
    Object.entries(secret?.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
}
