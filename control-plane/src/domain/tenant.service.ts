import {
  TENANT_FINALIZER,
  TENANT_SLUG_PROBLEM_MESSAGES,
  defaultTenantSpec,
  findTenantSlugProblem,
  type TenantResource,
  type TenantSpec,
} from '@citadel/contracts';
import { TenantError } from './tenant-error.ts';
import type { TenantCursor, TenantPage, TenantRepository } from './tenant-repository.ts';

export interface CreateTenantInput {
  slug: string;
  displayName: string;
  plan: string;
  region?: string | undefined;
  /** The organisation that owns the tenant (console sign-up and organisation members). */
  organizationId?: string | undefined;
}

export interface TenantServiceDeps {
  repository: TenantRepository;
  /** Asks the reconciler to look at a tenant now. */
  requestReconcile(slug: string): void;
  /** The region new tenants land in on this platform. */
  defaultRegion: string;
}

function encodeCursor(cursor: TenantCursor): string {
  return Buffer.from(JSON.stringify({ c: cursor.createdAt.toISOString(), i: cursor.id })).toString(
    'base64url',
  );
}

function decodeCursor(cursor: string): TenantCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'c' in parsed && 'i' in parsed) {
      const createdAt = new Date(String(parsed.c));
      const id = String(parsed.i);
      if (!Number.isNaN(createdAt.getTime()) && /^[0-9a-f-]{36}$/.test(id))
        return { createdAt, id };
    }
  } catch {
    // fall through to the typed error
  }
  throw new TenantError('invalid-cursor', 'The cursor is not one this API returned.');
}

/** The tenant lifecycle use cases: every write records desired state and wakes the reconciler. */
export function createTenantService(deps: TenantServiceDeps) {
  const { repository } = deps;

  async function requireTenant(slug: string): Promise<TenantResource> {
    const tenant = await repository.get(slug);
    if (!tenant) throw new TenantError('tenant-not-found', `No tenant "${slug}".`, { slug });
    return tenant;
  }

  async function setSuspended(slug: string, suspended: boolean): Promise<TenantResource> {
    const current = await requireTenant(slug);
    if (current.metadata.deletionTimestamp !== undefined) {
      throw new TenantError('tenant-deleting', `Tenant "${slug}" is being deleted.`, { slug });
    }
    const updated = await repository.updateSpec(slug, (spec) => ({ ...spec, suspended }));
    if (!updated) throw new TenantError('tenant-not-found', `No tenant "${slug}".`, { slug });
    deps.requestReconcile(slug);
    return updated;
  }

  /** Validates the input (slug rules, known plan) and builds the desired state. */
  async function prepareSpec(input: CreateTenantInput): Promise<TenantSpec> {
    const slugProblem = findTenantSlugProblem(input.slug);
    if (slugProblem) {
      throw new TenantError(
        'invalid-slug',
        `Slug "${input.slug}" ${TENANT_SLUG_PROBLEM_MESSAGES[slugProblem]}.`,
        {
          slug: input.slug,
          reason: slugProblem,
        },
      );
    }
    const plan = await repository.findPlan(input.plan);
    if (!plan) {
      throw new TenantError('unknown-plan', `No plan "${input.plan}".`, { plan: input.plan });
    }
    return defaultTenantSpec({
      slug: input.slug,
      displayName: input.displayName,
      plan,
      region: input.region ?? deps.defaultRegion,
    });
  }

  return {
    prepareSpec,

    async create(input: CreateTenantInput): Promise<TenantResource> {
      const spec = await prepareSpec(input);
      const tenant = await repository.create(spec, [TENANT_FINALIZER], {
        organizationId: input.organizationId,
      });
      deps.requestReconcile(tenant.metadata.name);
      return tenant;
    },

    /** Wakes the reconciler for a tenant written elsewhere (e.g. inside the sign-up transaction). */
    requestReconcile: (slug: string) => deps.requestReconcile(slug),

    get: requireTenant,

    async list(limit: number, cursor: string | undefined): Promise<TenantPage> {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const page = await repository.list(limit, after);
      return {
        items: page.items,
        nextCursor: page.more && page.last ? encodeCursor(page.last) : undefined,
      };
    },

    suspend: (slug: string) => setSuspended(slug, true),
    resume: (slug: string) => setSuspended(slug, false),

    async delete(slug: string): Promise<TenantResource> {
      const tenant = await repository.markForDeletion(slug);
      if (!tenant) throw new TenantError('tenant-not-found', `No tenant "${slug}".`, { slug });
      deps.requestReconcile(slug);
      return tenant;
    },
  };
}

export type TenantService = ReturnType<typeof createTenantService>;
