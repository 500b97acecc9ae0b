import { randomUUID } from 'node:crypto';
import type { TenantResource } from '@citadel/contracts';
import {
  CITADEL_CEDAR_SCHEMA,
  createCedarAuthorizer,
  digestAuthorizationRequest,
  platformPoliciesFor,
  splitCedarPolicies,
  validateCedarPolicies,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type CedarAuthorizer,
  type PolicyValidationError,
} from '@citadel/data-plane-runtime';
import { AUDIT_ACTIONS, type AuditActor } from '../audit/audit-entry.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { TenantError } from '../domain/tenant-error.ts';
import type { Logger } from '../logger.ts';
import { PolicyError } from './policy-error.ts';

/** A tenant admin's policy as stored. */
export interface TenantPolicyRecord {
  id: string;
  tenantId: string;
  /** Unique per tenant; the Cedar policy id is `tenant/<name>`. */
  name: string;
  description: string;
  /** Cedar policy text: one or more static policies. */
  text: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What a tenant admin writes. */
export interface PolicyInput {
  name: string;
  description: string;
  text: string;
}

/** Persistence of tenant policies; every method takes the tenant id. */
export interface PolicyRepository {
  /** The tenant's plan, or undefined when there is no such (live) tenant. */
  findPlanId(tenantId: string): Promise<string | undefined>;
  list(tenantId: string): Promise<TenantPolicyRecord[]>;
  get(tenantId: string, policyId: string): Promise<TenantPolicyRecord | undefined>;
  /** Throws PolicyError('policy-name-taken') when the name is used. */
  insert(tenantId: string, input: PolicyInput): Promise<TenantPolicyRecord>;
  update(
    tenantId: string,
    policyId: string,
    input: PolicyInput,
  ): Promise<TenantPolicyRecord | undefined>;
  delete(tenantId: string, policyId: string): Promise<boolean>;
}

/** A decision as recorded: the answer, and what was asked. */
export interface PolicyDecisionRecord extends AuthorizationDecision {
  tenantId: string;
  principal: AuthorizationRequest['principal'];
  action: AuthorizationRequest['action'];
  resource: AuthorizationRequest['resource'];
  /** True for `evaluate` (a what-if from the policy API), false for enforcement. */
  whatIf: boolean;
}

export interface PolicyServiceDeps {
  repository: PolicyRepository;
  getTenant(slug: string): Promise<TenantResource | undefined>;
  logger: Logger;
  /**
   * Called after every decision (the audit log's hook). A returned promise is not awaited;
   * its rejection is logged.
   */
  onDecision?: (record: PolicyDecisionRecord) => void | Promise<void>;
  /**
   * How long a tenant's authorizer is used before it is rebuilt from the database even
   * without a local change (changes made by another control-plane process, plan changes).
   * Default 60 s.
   */
  maxAgeMs?: number;
  /** Records every change, and every policy Cedar rejects, in the tenant's audit log. */
  audit?: Pick<AuditRecorder, 'record'> | undefined;
}

/** A change to a tenant's policies, as the audit log records it. */
interface PolicyChange {
  tenantId: string;
  actor: AuditActor;
  action: (typeof AUDIT_ACTIONS)['policyCreated' | 'policyUpdated' | 'policyDeleted'];
  /** The policy's id; for a refused creation, which has none, the name given. */
  target: string;
  name: string;
}

/** Who changes policies when the caller names nobody. */
const SYSTEM_ACTOR: AuditActor = { type: 'system' };

/** The prefix of tenant policies' Cedar ids; the platform's own start with `citadel/`. */
export const TENANT_POLICY_PREFIX = 'tenant/';

interface CachedAuthorizer {
  authorizer: CedarAuthorizer;
  generation: number;
  loadedAt: number;
}

/** Each stored policy as Cedar policies with ids (`tenant/<name>`, `tenant/<name>#2`…). */
function cedarPoliciesOf(records: ReadonlyArray<Pick<TenantPolicyRecord, 'name' | 'text'>>): {
  policies: Record<string, string>;
  errors: PolicyValidationError[];
} {
  const policies: Record<string, string> = {};
  const errors: PolicyValidationError[] = [];
  for (const record of records) {
    const split = splitCedarPolicies(`${TENANT_POLICY_PREFIX}${record.name}`, record.text);
    Object.assign(policies, split.policies);
    errors.push(...split.errors);
  }
  return { policies, errors };
}

function invalidPolicy(name: string, errors: PolicyValidationError[]): PolicyError {
  return new PolicyError(
    'policy-invalid',
    `The policy "${name}" is not valid Cedar for this platform.`,
    {
      errors,
    },
  );
}

/**
 * Tenant admins' Cedar policies: stored per tenant, validated against the platform schema
 * together with the plan's defaults before anything is written, and enforced through one
 * pre-parsed authorizer per tenant, rebuilt when the tenant's policies change.
 */
export function createPolicyService(deps: PolicyServiceDeps) {
  const { repository, logger } = deps;
  const maxAgeMs = deps.maxAgeMs ?? 60_000;
  const cache = new Map<string, CachedAuthorizer>();
  /** Bumped on every change; an authorizer built from an older generation is stale. */
  const generations = new Map<string, number>();
  const loading = new Map<string, Promise<CedarAuthorizer>>();

  async function tenantIdOf(slug: string): Promise<string> {
    const tenant = await deps.getTenant(slug);
    if (!tenant || tenant.metadata.deletionTimestamp !== undefined) {
      throw new TenantError('tenant-not-found', `No tenant "${slug}".`, { slug });
    }
    return tenant.metadata.uid;
  }

  async function planIdOf(tenantId: string): Promise<string> {
    const planId = await repository.findPlanId(tenantId);
    if (planId === undefined) {
      throw new TenantError('tenant-not-found', `No tenant with id "${tenantId}".`, { tenantId });
    }
    return planId;
  }

  /** Validates the tenant's policies as they would be after `change`; throws policy-invalid. */
  async function validateChange(
    tenantId: string,
    candidate: PolicyInput,
    replacing: string | undefined,
  ): Promise<void> {
    const [planId, stored] = await Promise.all([planIdOf(tenantId), repository.list(tenantId)]);
    const own = cedarPoliciesOf([candidate]);
    if (own.errors.length > 0) throw invalidPolicy(candidate.name, own.errors);
    const others = cedarPoliciesOf(stored.filter((record) => record.id !== replacing));
    const errors = validateCedarPolicies(CITADEL_CEDAR_SCHEMA, {
      ...platformPoliciesFor(planId, tenantId),
      ...others.policies,
      ...own.policies,
    });
    if (errors.length > 0) throw invalidPolicy(candidate.name, errors);
  }

  function invalidate(tenantId: string): void {
    generations.set(tenantId, (generations.get(tenantId) ?? 0) + 1);
  }

  async function build(tenantId: string): Promise<CedarAuthorizer> {
    const generation = generations.get(tenantId) ?? 0;
    const [planId, stored] = await Promise.all([planIdOf(tenantId), repository.list(tenantId)]);
    const own = cedarPoliciesOf(stored);
    if (own.errors.length > 0) throw invalidPolicy(own.errors[0]?.policyId ?? '', own.errors);
    const policies = { ...platformPoliciesFor(planId, tenantId), ...own.policies };
    // From here on synchronous: no other build of this tenant can interleave.
    const cached = cache.get(tenantId);
    const authorizer =
      cached?.authorizer ??
      createCedarAuthorizer({
        schema: CITADEL_CEDAR_SCHEMA,
        policies,
        // One pre-parsed slot per tenant inside cedar-wasm, reused by every rebuild.
        policySetId: `tenant-${tenantId}`,
      });
    if (cached) authorizer.replacePolicies(policies);
    cache.set(tenantId, { authorizer, generation, loadedAt: Date.now() });
    return authorizer;
  }

  async function authorizerFor(tenantId: string): Promise<CedarAuthorizer> {
    const cached = cache.get(tenantId);
    const current = generations.get(tenantId) ?? 0;
    if (cached?.generation === current && Date.now() - cached.loadedAt < maxAgeMs) {
      return cached.authorizer;
    }
    let pending = loading.get(tenantId);
    if (!pending) {
      pending = build(tenantId).finally(() => loading.delete(tenantId));
      loading.set(tenantId, pending);
    }
    return pending;
  }

  async function decide(
    tenantId: string,
    request: AuthorizationRequest,
  ): Promise<AuthorizationDecision> {
    try {
      return (await authorizerFor(tenantId)).authorize(request);
    } catch (error) {
      // No authorizer, no access: the tenant is gone or its stored policies no longer load.
      logger.error({ err: error, tenantId }, 'tenant policies could not be loaded; denying');
      return {
        decision: 'deny',
        decisionId: randomUUID(),
        determiningPolicies: [],
        errors: [`policies unavailable: ${error instanceof Error ? error.message : String(error)}`],
        inputDigest: digestAuthorizationRequest(request),
        policySetDigest: '',
      };
    }
  }

  function record(
    tenantId: string,
    request: AuthorizationRequest,
    decision: AuthorizationDecision,
    whatIf: boolean,
  ) {
    const entry: PolicyDecisionRecord = {
      ...decision,
      tenantId,
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      whatIf,
    };
    logger.info({ authorization: entry }, 'authorization decision');
    if (!deps.onDecision) return;
    try {
      void Promise.resolve(deps.onDecision(entry)).catch((error: unknown) =>
        logger.warn({ err: error, decisionId: entry.decisionId }, 'decision hook failed'),
      );
    } catch (error) {
      logger.warn({ err: error, decisionId: entry.decisionId }, 'decision hook failed');
    }
  }

  function recordChange(
    change: PolicyChange,
    outcome: 'success' | 'failure',
    details: Record<string, string | number>,
  ): Promise<void> {
    if (!deps.audit) return Promise.resolve();
    return deps.audit.record(change.tenantId, {
      actor: change.actor,
      action: change.action,
      target: { type: 'policy', id: change.target },
      outcome,
      details: { name: change.name, ...details },
    });
  }

  /**
   * Runs `apply` and records the change: as a success with the stored version, or as a
   * failure with the error count when Cedar refuses the policy. Other errors (unknown
   * policy, name taken) are not policy changes and are not recorded.
   */
  async function audited(
    change: PolicyChange,
    apply: () => Promise<TenantPolicyRecord>,
  ): Promise<TenantPolicyRecord> {
    try {
      const record = await apply();
      await recordChange({ ...change, target: record.id }, 'success', { version: record.version });
      return record;
    } catch (error) {
      if (error instanceof PolicyError && error.code === 'policy-invalid') {
        const errors = error.details.errors;
        const errorCount = Array.isArray(errors) ? errors.length : 0;
        await recordChange(change, 'failure', { reason: error.code, errorCount });
      }
      throw error;
    }
  }

  async function requirePolicy(tenantId: string, policyId: string): Promise<TenantPolicyRecord> {
    const found = await repository.get(tenantId, policyId);
    if (!found)
      throw new PolicyError('policy-not-found', `No policy "${policyId}" for this tenant.`, {
        policyId,
      });
    return found;
  }

  return {
    async list(slug: string): Promise<TenantPolicyRecord[]> {
      return repository.list(await tenantIdOf(slug));
    },

    async get(slug: string, policyId: string): Promise<TenantPolicyRecord> {
      return requirePolicy(await tenantIdOf(slug), policyId);
    },

    /** Validates, then stores; nothing is written when Cedar refuses the policy. */
    async create(
      slug: string,
      input: PolicyInput,
      actor: AuditActor = SYSTEM_ACTOR,
    ): Promise<TenantPolicyRecord> {
      const tenantId = await tenantIdOf(slug);
      const change = { tenantId, actor, name: input.name, target: input.name };
      return audited({ ...change, action: AUDIT_ACTIONS.policyCreated }, async () => {
        await validateChange(tenantId, input, undefined);
        const created = await repository.insert(tenantId, input);
        invalidate(tenantId);
        return created;
      });
    },

    /** Replaces name, description and text; validated first, as `create` is. */
    async update(
      slug: string,
      policyId: string,
      input: PolicyInput,
      actor: AuditActor = SYSTEM_ACTOR,
    ): Promise<TenantPolicyRecord> {
      const tenantId = await tenantIdOf(slug);
      await requirePolicy(tenantId, policyId);
      const change = { tenantId, actor, name: input.name, target: policyId };
      return audited({ ...change, action: AUDIT_ACTIONS.policyUpdated }, async () => {
        await validateChange(tenantId, input, policyId);
        const updated = await repository.update(tenantId, policyId, input);
        invalidate(tenantId);
        if (!updated)
          throw new PolicyError('policy-not-found', `No policy "${policyId}" for this tenant.`, {
            policyId,
          });
        return updated;
      });
    },

    async delete(slug: string, policyId: string, actor: AuditActor = SYSTEM_ACTOR): Promise<void> {
      const tenantId = await tenantIdOf(slug);
      const existing = await requirePolicy(tenantId, policyId);
      const change = { tenantId, actor, name: existing.name, target: policyId };
      await audited({ ...change, action: AUDIT_ACTIONS.policyDeleted }, async () => {
        const deleted = await repository.delete(tenantId, policyId);
        if (!deleted)
          throw new PolicyError('policy-not-found', `No policy "${policyId}" for this tenant.`, {
            policyId,
          });
        invalidate(tenantId);
        return existing;
      });
    },

    /** A what-if: the decision the tenant's current policies give `request`, recorded as such. */
    async evaluate(slug: string, request: AuthorizationRequest): Promise<AuthorizationDecision> {
      const tenantId = await tenantIdOf(slug);
      const decision = await decide(tenantId, request);
      record(tenantId, request, decision, true);
      return decision;
    },

    /**
     * Enforcement: decides `request` with the tenant's policies (plan defaults + its own) and
     * records the decision. Never throws: whatever goes wrong is a deny with the reason.
     */
    async authorize(
      tenantId: string,
      request: AuthorizationRequest,
    ): Promise<AuthorizationDecision> {
      const decision = await decide(tenantId, request);
      record(tenantId, request, decision, false);
      return decision;
    },

    /** Drops the tenant's authorizer so the next decision reloads (plan change, deletion). */
    invalidate,
  };
}

export type PolicyService = ReturnType<typeof createPolicyService>;
