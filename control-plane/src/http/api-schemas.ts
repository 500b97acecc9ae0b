import 'zod-openapi';
import {
  TENANT_CONDITION_TYPES,
  TENANT_PHASES,
  TENANT_SLUG_MAX_LENGTH,
  TENANT_SLUG_PATTERN,
  tenantSpecSchema,
} from '@citadel/contracts';
import { z } from 'zod';

/**
 * The REST API's request and response shapes. The same schemas validate requests and
 * generate the OpenAPI document, so the two cannot drift apart.
 */
export const createTenantRequestSchema = z
  .strictObject({
    slug: z.string().meta({
      description: `DNS-1123 label of 3–${TENANT_SLUG_MAX_LENGTH} characters, not reserved.`,
      pattern: TENANT_SLUG_PATTERN.source,
      examples: ['acme'],
    }),
    displayName: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .meta({ examples: ['Acme Corporation'] }),
    plan: z
      .string()
      .min(1)
      .max(64)
      .meta({
        description: 'A plan id, e.g. starter, business, enterprise.',
        examples: ['starter'],
      }),
  })
  .meta({ id: 'CreateTenantRequest' });

export const listTenantsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const slugParamSchema = z.strictObject({
  slug: z
    .string()
    .max(64)
    .meta({ examples: ['acme'] }),
});

const conditionSchema = z
  .object({
    type: z.enum(TENANT_CONDITION_TYPES),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z.string(),
    message: z.string(),
    lastTransitionTime: z.string(),
    observedGeneration: z.number().int(),
  })
  .meta({ id: 'TenantCondition' });

export const tenantViewSchema = z
  .object({
    apiVersion: z.literal('citadel.azora.dev/v1alpha1'),
    kind: z.literal('Tenant'),
    slug: z.string(),
    displayName: z.string(),
    plan: z.string(),
    metadata: z.object({
      name: z.string(),
      uid: z.string(),
      generation: z.number().int(),
      creationTimestamp: z.string(),
      deletionTimestamp: z.string().optional(),
      finalizers: z.array(z.string()),
    }),
    spec: tenantSpecSchema.meta({ id: 'TenantSpec' }),
    status: z.object({
      phase: z.enum(TENANT_PHASES),
      observedGeneration: z.number().int(),
      conditions: z.array(conditionSchema),
      endpoints: z.record(z.string(), z.string()),
    }),
  })
  .meta({ id: 'Tenant' });

export const tenantListSchema = z
  .object({ items: z.array(tenantViewSchema), nextCursor: z.string().optional() })
  .meta({ id: 'TenantList' });

export const createApiKeyRequestSchema = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .meta({ examples: ['ci-pipeline'] }),
    scopes: z
      .array(z.string().regex(/^[a-z][a-z0-9:._-]{0,63}$/))
      .max(32)
      .default(['*'])
      .meta({ description: 'What the key may do; `*` for everything the tenant may do.' }),
  })
  .meta({ id: 'CreateApiKeyRequest' });

export const createdApiKeySchema = z
  .object({
    id: z.string(),
    key: z
      .string()
      .meta({ description: 'The secret, shown this once; only its digest is stored.' }),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
  })
  .meta({ id: 'CreatedApiKey' });

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    lastUsedAt: z.string().optional(),
    revokedAt: z.string().optional(),
  })
  .meta({ id: 'ApiKey' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });
