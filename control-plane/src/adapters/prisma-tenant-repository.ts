import {
  TENANT_API_VERSION,
  TENANT_KIND,
  tenantConditionSchema,
  tenantEndpointsSchema,
  tenantSpecSchema,
  type PlanDefinition,
  type PlanLimits,
  type TenantResource,
  type TenantSpec,
  type TenantStatus,
} from '@citadel/contracts';
import type { TenantStore } from '@citadel/operators';
import { z } from 'zod';
import { Prisma, type PrismaClient, type Tenant } from '../generated/prisma/client.ts';
import { TenantError } from '../domain/tenant-error.ts';
import type { TenantCursor, TenantRepository } from '../domain/tenant-repository.ts';

const conditionsSchema = z.array(tenantConditionSchema);

function toResource(row: Tenant): TenantResource {
  return {
    apiVersion: TENANT_API_VERSION,
    kind: TENANT_KIND,
    metadata: {
      name: row.slug,
      uid: row.id,
      generation: row.generation,
      creationTimestamp: row.createdAt.toISOString(),
      deletionTimestamp: row.deletionRequestedAt?.toISOString(),
      finalizers: row.finalizers,
    },
    spec: tenantSpecSchema.parse(row.spec),
    status: {
      phase: row.phase,
      observedGeneration: row.observedGeneration,
      conditions: conditionsSchema.parse(row.conditions),
      endpoints: tenantEndpointsSchema.parse(row.endpoints),
    },
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/** The part of a Prisma client (or interactive transaction) that inserts tenants. */
type TenantWriter = Pick<PrismaClient, 'tenant'>;

/**
 * Inserts a tenant row; with a transaction client it joins that transaction (sign-up writes
 * the account, its organisation and the first tenant together).
 */
export async function insertTenant(
  writer: TenantWriter,
  spec: TenantSpec,
  finalizers: string[],
  options: { organizationId?: string | undefined } = {},
): Promise<TenantResource> {
  try {
    const row = await writer.tenant.create({
      data: {
        slug: spec.slug,
        displayName: spec.displayName,
        planId: spec.plan,
        spec,
        finalizers,
        organizationId: options.organizationId ?? null,
      },
    });
    return toResource(row);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new TenantError('tenant-exists', `A tenant "${spec.slug}" exists already.`, {
        slug: spec.slug,
      });
    }
    throw error;
  }
}

/**
 * Tenants in the control plane's PostgreSQL, for the API's use cases and for the
 * reconciler (it implements the operators' TenantStore).
 */
export function createPrismaTenantRepository(prisma: PrismaClient): TenantRepository & TenantStore {
  return {
    async findPlan(planId: string): Promise<PlanDefinition | undefined> {
      const plan = await prisma.plan.findUnique({ where: { id: planId } });
      if (!plan) return undefined;
      return {
        id: plan.id,
        displayName: plan.displayName,
        monthlyPriceCents: plan.monthlyPriceCents,
        currency: plan.currency,
        gpuEntitled: plan.gpuEntitled,
        limits: plan.limits as unknown as PlanLimits,
      };
    },

    create: (spec, finalizers, options) => insertTenant(prisma, spec, finalizers, options),

    async get(slug: string): Promise<TenantResource | undefined> {
      const row = await prisma.tenant.findUnique({ where: { slug } });
      return row ? toResource(row) : undefined;
    },

    async list(limit: number, after: TenantCursor | undefined) {
      const rows = await prisma.tenant.findMany({
        where: after
          ? {
              OR: [
                { createdAt: { gt: after.createdAt } },
                { createdAt: after.createdAt, id: { gt: after.id } },
              ],
            }
          : {},
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: limit + 1,
      });
      const page = rows.slice(0, limit);
      const lastRow = page.at(-1);
      return {
        items: page.map(toResource),
        last: lastRow ? { createdAt: lastRow.createdAt, id: lastRow.id } : undefined,
        more: rows.length > limit,
      };
    },

    async updateSpec(slug: string, change: (spec: TenantSpec) => TenantSpec) {
      return prisma.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT id FROM tenants WHERE slug = ${slug} FOR UPDATE`;
        if (rows.length === 0) return undefined;
        const row = await tx.tenant.findUniqueOrThrow({ where: { slug } });
        const before = tenantSpecSchema.parse(row.spec);
        const after = tenantSpecSchema.parse(change(before));
        if (JSON.stringify(before) === JSON.stringify(after)) return toResource(row);
        const updated = await tx.tenant.update({
          where: { slug },
          data: { spec: after, generation: { increment: 1 } },
        });
        return toResource(updated);
      });
    },

    async markForDeletion(slug: string) {
      const rows = await prisma.tenant.updateManyAndReturn({
        where: { slug, deletionRequestedAt: null },
        data: { deletionRequestedAt: new Date(), generation: { increment: 1 }, phase: 'Deleting' },
      });
      const marked = rows[0];
      if (marked) return toResource(marked);
      const existing = await prisma.tenant.findUnique({ where: { slug } });
      return existing ? toResource(existing) : undefined;
    },

    async listSlugs(): Promise<string[]> {
      const rows = await prisma.tenant.findMany({
        select: { slug: true },
        orderBy: { createdAt: 'asc' },
      });
      return rows.map((row) => row.slug);
    },

    async writeStatus(slug: string, uid: string, status: TenantStatus): Promise<void> {
      await prisma.tenant.updateMany({
        where: { slug, id: uid },
        data: {
          phase: status.phase,
          observedGeneration: status.observedGeneration,
          conditions: status.conditions,
          endpoints: status.endpoints,
        },
      });
    },

    async removeFinalizer(slug: string, uid: string, finalizer: string): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<
          Array<{ finalizers: string[]; deletion_requested_at: Date | null }>
        >`
          UPDATE tenants SET finalizers = array_remove(finalizers, ${finalizer}), updated_at = now()
          WHERE slug = ${slug} AND id = ${uid}::uuid
          RETURNING finalizers, deletion_requested_at`;
        const row = rows[0];
        if (row?.finalizers.length === 0 && row.deletion_requested_at !== null) {
          await tx.tenant.delete({ where: { id: uid } });
        }
      });
    },
  };
}
