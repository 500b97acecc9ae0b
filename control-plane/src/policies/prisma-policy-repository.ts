import { Prisma, type PrismaClient, type TenantPolicy } from '../generated/prisma/client.ts';
import { PolicyError } from './policy-error.ts';
import type { PolicyInput, PolicyRepository, TenantPolicyRecord } from './policy.service.ts';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toRecord(row: TenantPolicy): TenantPolicyRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    description: row.description,
    text: row.text,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function nameTaken(error: unknown, name: string): unknown {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
    return new PolicyError('policy-name-taken', `A policy named "${name}" already exists.`, {
      name,
    });
  }
  return error;
}

/** Tenant policies in the control plane's PostgreSQL; every query is scoped by tenant id. */
export function createPrismaPolicyRepository(prisma: PrismaClient): PolicyRepository {
  return {
    async findPlanId(tenantId) {
      const tenant = await prisma.tenant.findUnique({
        where: { id: tenantId },
        select: { planId: true, deletionRequestedAt: true },
      });
      return tenant && !tenant.deletionRequestedAt ? tenant.planId : undefined;
    },
    async list(tenantId) {
      const rows = await prisma.tenantPolicy.findMany({
        where: { tenantId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      return rows.map(toRecord);
    },
    async get(tenantId, policyId) {
      if (!UUID_PATTERN.test(policyId)) return undefined;
      const row = await prisma.tenantPolicy.findFirst({ where: { id: policyId, tenantId } });
      return row ? toRecord(row) : undefined;
    },
    async insert(tenantId, input: PolicyInput) {
      try {
        return toRecord(await prisma.tenantPolicy.create({ data: { tenantId, ...input } }));
      } catch (error) {
        throw nameTaken(error, input.name);
      }
    },
    async update(tenantId, policyId, input: PolicyInput) {
      if (!UUID_PATTERN.test(policyId)) return undefined;
      try {
        const result = await prisma.tenantPolicy.updateMany({
          where: { id: policyId, tenantId },
          data: { ...input, version: { increment: 1 } },
        });
        if (result.count === 0) return undefined;
      } catch (error) {
        throw nameTaken(error, input.name);
      }
      const row = await prisma.tenantPolicy.findFirst({ where: { id: policyId, tenantId } });
      return row ? toRecord(row) : undefined;
    },
    async delete(tenantId, policyId) {
      if (!UUID_PATTERN.test(policyId)) return false;
      const result = await prisma.tenantPolicy.deleteMany({ where: { id: policyId, tenantId } });
      return result.count === 1;
    },
  };
}
