import { randomBytes } from 'node:crypto';
import { PLAN_CATALOG } from '@citadel/contracts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { digestSecret, generateSecret } from '../domain/secret-digest.ts';

const INSTANCE_ID_KEY = 'instance_id';
const ADMIN_TOKEN_DIGEST_KEY = 'admin_token_sha256';

/** Reads a setting, creating it with `create()` when absent; concurrent starts agree on one value. */
async function getOrCreateSetting(
  prisma: PrismaClient,
  key: string,
  create: () => string,
): Promise<{ value: string; created: boolean }> {
  const candidate = create();
  const inserted = await prisma.platformSetting.createMany({
    data: [{ key, value: candidate }],
    skipDuplicates: true,
  });
  if (inserted.count === 1) return { value: candidate, created: true };
  const existing = await prisma.platformSetting.findUniqueOrThrow({ where: { key } });
  return { value: existing.value, created: false };
}

/**
 * A short id for this installation. It prefixes the names of everything the platform
 * creates on shared servers (databases, roles), so two installations never collide.
 */
export async function loadInstanceId(prisma: PrismaClient): Promise<string> {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const generate = () =>
    Array.from(randomBytes(6), (byte) => alphabet[byte % alphabet.length]).join('');
  return (await getOrCreateSetting(prisma, INSTANCE_ID_KEY, generate)).value;
}

export interface AdminTokenResolution {
  /** SHA-256 digest the API compares bearer tokens against. */
  digest: string;
  /** The token, when this start generated it (to be shown once). */
  generatedToken: string | undefined;
}

/**
 * The platform-operator token: the environment's when given; otherwise the one generated
 * at first start, of which only a digest is stored.
 */
export async function resolveAdminToken(
  prisma: PrismaClient,
  configured: string | undefined,
): Promise<AdminTokenResolution> {
  if (configured !== undefined)
    return { digest: digestSecret(configured), generatedToken: undefined };
  let token: string | undefined;
  const setting = await getOrCreateSetting(prisma, ADMIN_TOKEN_DIGEST_KEY, () => {
    token = generateSecret('ctd_admin');
    return digestSecret(token);
  });
  return { digest: setting.value, generatedToken: setting.created ? token : undefined };
}

/** Writes the plan catalog to the plans table; plans are data from here on. */
export async function syncPlanCatalog(prisma: PrismaClient): Promise<void> {
  for (const plan of PLAN_CATALOG) {
    const data = {
      displayName: plan.displayName,
      monthlyPriceCents: plan.monthlyPriceCents,
      currency: plan.currency,
      gpuEntitled: plan.gpuEntitled,
      limits: JSON.parse(JSON.stringify(plan.limits)) as object,
    };
    await prisma.plan.upsert({
      where: { id: plan.id },
      create: { id: plan.id, ...data },
      update: data,
    });
  }
}
