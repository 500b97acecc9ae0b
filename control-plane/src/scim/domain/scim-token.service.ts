import type { TenantResource } from '@citadel/contracts';
import { AUDIT_ACTIONS, type AuditActor } from '../../audit/audit-entry.ts';
import { digestSecret, generateSecret } from '../../domain/secret-digest.ts';
import { TenantError } from '../../domain/tenant-error.ts';
import { createScimAuditTrail, type ScimAuditRecorder } from './scim-audit-trail.ts';

/** The token prefix: `ctd_scim_…` lets secret scanners spot a leaked SCIM token. */
export const SCIM_TOKEN_PREFIX = 'ctd_scim';

export interface ScimTokenRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | undefined;
  revokedAt: Date | undefined;
}

export interface ScimTokenRepository {
  insert(
    tenantId: string,
    token: { name: string; prefix: string; secretHash: string },
  ): Promise<ScimTokenRecord>;
  list(tenantId: string): Promise<ScimTokenRecord[]>;
  /** Revokes the token if it belongs to `tenantId`; false when there is no such token. */
  revoke(tenantId: string, tokenId: string): Promise<boolean>;
  /**
   * The live token with this digest whose tenant is not being deleted. The one lookup
   * without a tenant id: the token is what selects the tenant.
   */
  findActiveByDigest(secretHash: string): Promise<ScimTokenRecord | undefined>;
  touch(tenantId: string, tokenId: string, usedAt: Date): Promise<void>;
}

export interface ScimTokenServiceDeps {
  repository: ScimTokenRepository;
  getTenant(slug: string): Promise<TenantResource | undefined>;
  /** Records issuance and revocation in the tenant's audit log. */
  audit?: ScimAuditRecorder | undefined;
}

/** Who a presented SCIM token is: its tenant and its id (the actor in the audit log). */
export interface ScimTokenIdentity {
  tenantId: string;
  tokenId: string;
}

const TOUCH_INTERVAL_MS = 60_000;

/** SCIM bearer tokens: issued per tenant, shown once, stored as digests, revocable. */
export function createScimTokenService(deps: ScimTokenServiceDeps) {
  const lastTouched = new Map<string, number>();
  const audit = createScimAuditTrail(deps.audit);

  async function tenantIdOf(slug: string): Promise<string> {
    const tenant = await deps.getTenant(slug);
    if (!tenant || tenant.metadata.deletionTimestamp !== undefined)
      throw new TenantError('tenant-not-found', `No tenant "${slug}".`, { slug });
    return tenant.metadata.uid;
  }

  return {
    async issue(slug: string, input: { name?: string | undefined }, actor: AuditActor) {
      const tenantId = await tenantIdOf(slug);
      const token = generateSecret(SCIM_TOKEN_PREFIX);
      const record = await deps.repository.insert(tenantId, {
        name: input.name ?? 'SCIM token',
        prefix: token.slice(0, 16),
        secretHash: digestSecret(token),
      });
      await audit.changed(
        { tenantId, actor },
        AUDIT_ACTIONS.scimTokenIssued,
        { type: 'scim-token', id: record.id },
        { slug, name: record.name, prefix: record.prefix },
      );
      return { record, token };
    },

    async list(slug: string): Promise<ScimTokenRecord[]> {
      return deps.repository.list(await tenantIdOf(slug));
    },

    async revoke(slug: string, tokenId: string, actor: AuditActor): Promise<boolean> {
      const tenantId = await tenantIdOf(slug);
      const revoked = await deps.repository.revoke(tenantId, tokenId);
      if (revoked) {
        const target = { type: 'scim-token', id: tokenId };
        await audit.changed({ tenantId, actor }, AUDIT_ACTIONS.scimTokenRevoked, target, { slug });
      }
      return revoked;
    },

    /** The tenant and token a presented SCIM token selects, or undefined. */
    async authenticate(presented: string): Promise<ScimTokenIdentity | undefined> {
      if (!presented.startsWith(`${SCIM_TOKEN_PREFIX}_`)) return undefined;
      const record = await deps.repository.findActiveByDigest(digestSecret(presented));
      if (!record) return undefined;
      const now = Date.now();
      if (now - (lastTouched.get(record.id) ?? 0) > TOUCH_INTERVAL_MS) {
        lastTouched.set(record.id, now);
        await deps.repository.touch(record.tenantId, record.id, new Date(now));
      }
      return { tenantId: record.tenantId, tokenId: record.id };
    },
  };
}

export type ScimTokenService = ReturnType<typeof createScimTokenService>;
