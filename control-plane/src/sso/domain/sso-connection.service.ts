import { randomUUID } from 'node:crypto';
import type { TenantResource } from '@citadel/contracts';
import { AUDIT_ACTIONS, type AuditActor } from '../../audit/audit-entry.ts';
import type { AuditRecorder } from '../../audit/audit-recorder.ts';
import type { OidcRelyingParty } from '../adapters/oidc-relying-party.ts';
import {
  connectionVersion,
  normalizeDomains,
  planConnectionUpdate,
  type SsoConnectionPatch,
} from './sso-connection-update.ts';
import { SsoError } from './sso-error.ts';
import type { TenantRole } from './sso-identity-rules.ts';
import type { SsoConnectionRecord, SsoRepository } from './sso-repository.ts';
import { encryptClientSecret, type SsoSecretCipher } from './sso-secrets.ts';

/** What an admin gives to connect an IdP. */
export interface SsoConnectionInput {
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  claims: { email: string; name: string; groups: string };
  groupRoles: Record<string, TenantRole>;
  defaultRole?: TenantRole | undefined;
  allowedEmailDomains: string[];
  enabled: boolean;
}

export interface SsoConnectionServiceDeps {
  repository: SsoRepository;
  relyingParty: Pick<OidcRelyingParty, 'checkIssuer'>;
  cipher: SsoSecretCipher;
  audit: AuditRecorder;
  getTenant: (slug: string) => Promise<TenantResource | undefined>;
  now?: () => Date;
}

/** Connection management for operators and tenant admins. */
export interface SsoConnectionService {
  /** Discovers the issuer first: a wrong issuer fails here, not at the first login. */
  create(slug: string, input: SsoConnectionInput, actor: AuditActor): Promise<SsoConnectionRecord>;
  list(slug: string): Promise<SsoConnectionRecord[]>;
  /** @throws {@link SsoError} `connection-not-found`, also for another tenant's connection */
  get(slug: string, id: string): Promise<SsoConnectionRecord>;
  /**
   * Applies `patch`: a changed issuer is discovered first, a new client secret is encrypted
   * with the tenant's active data key, and disabling (or narrowing the allowed domains)
   * revokes the connection's sessions in the same transaction. Nothing is written when a
   * check fails, and a patch that changes nothing writes nothing.
   * @param ifVersion the version the caller read (`If-Match`); another one is refused
   * @throws {@link SsoError} `connection-not-found`, `issuer-discovery-failed`,
   *   `connection-name-taken`, `version-mismatch`, `connection-modified`
   */
  update(
    slug: string,
    id: string,
    patch: SsoConnectionPatch,
    context: { actor: AuditActor; ifVersion?: string | undefined },
  ): Promise<SsoConnectionRecord>;
  /** Deletes the connection and revokes the sessions it created. */
  delete(slug: string, id: string, actor: AuditActor): Promise<void>;
}

/** The tenant behind `slug`, unless it is unknown or being deleted. */
export async function requireTenant(
  getTenant: (slug: string) => Promise<TenantResource | undefined>,
  slug: string,
): Promise<TenantResource> {
  const tenant = await getTenant(slug);
  if (!tenant || tenant.metadata.deletionTimestamp !== undefined) {
    throw new SsoError('tenant-not-found', `No tenant "${slug}".`);
  }
  return tenant;
}

/** A moment strictly after `previous`: every update gets a new version, even within 1 ms. */
function laterThan(previous: Date, now: Date): Date {
  return now > previous ? now : new Date(previous.getTime() + 1);
}

function notFound(id: string): SsoError {
  return new SsoError('connection-not-found', `No SSO connection "${id}".`);
}

export function createSsoConnectionService(deps: SsoConnectionServiceDeps): SsoConnectionService {
  const { repository, audit } = deps;
  const now = deps.now ?? (() => new Date());

  async function findConnection(tenantId: string, id: string): Promise<SsoConnectionRecord> {
    const connection = await repository.findConnection(tenantId, id);
    if (!connection) throw notFound(id);
    return connection;
  }

  return {
    async create(slug, input, actor) {
      const tenantId = (await requireTenant(deps.getTenant, slug)).metadata.uid;
      await deps.relyingParty.checkIssuer(input.issuer);
      const id = randomUUID();
      const secret = await encryptClientSecret(
        deps.cipher,
        { tenantId, connectionId: id },
        input.clientSecret,
      );
      const created = await repository.createConnection(tenantId, {
        id,
        name: input.name,
        issuer: input.issuer,
        clientId: input.clientId,
        clientSecretCiphertext: secret.ciphertext,
        keyVersion: secret.keyVersion,
        scopes: input.scopes,
        emailClaim: input.claims.email,
        nameClaim: input.claims.name,
        groupsClaim: input.claims.groups,
        groupRoles: input.groupRoles,
        defaultRole: input.defaultRole,
        allowedEmailDomains: normalizeDomains(input.allowedEmailDomains),
        enabled: input.enabled,
      });
      await audit.record(tenantId, {
        actor,
        action: AUDIT_ACTIONS.ssoConnectionCreated,
        target: { type: 'sso-connection', id },
        outcome: 'success',
        details: { name: input.name, issuer: input.issuer, clientId: input.clientId },
      });
      return created;
    },
    async list(slug) {
      return repository.listConnections((await requireTenant(deps.getTenant, slug)).metadata.uid);
    },
    async get(slug, id) {
      return findConnection((await requireTenant(deps.getTenant, slug)).metadata.uid, id);
    },
    async update(slug, id, patch, { actor, ifVersion }) {
      const tenantId = (await requireTenant(deps.getTenant, slug)).metadata.uid;
      const current = await findConnection(tenantId, id);
      if (ifVersion !== undefined && ifVersion !== connectionVersion(current)) {
        throw new SsoError('version-mismatch', 'The connection changed since it was read.', {
          currentVersion: connectionVersion(current),
        });
      }
      const plan = planConnectionUpdate(current, patch);
      if (plan.changedFields.length === 0) return current;
      if (plan.changes.issuer !== undefined)
        await deps.relyingParty.checkIssuer(plan.changes.issuer);
      const changes = { ...plan.changes };
      if (patch.clientSecret !== undefined) {
        const ids = { tenantId, connectionId: id };
        const secret = await encryptClientSecret(deps.cipher, ids, patch.clientSecret);
        changes.clientSecretCiphertext = secret.ciphertext;
        changes.keyVersion = secret.keyVersion;
      }
      const result = await repository.updateConnection(tenantId, id, {
        changes,
        expectedUpdatedAt: current.updatedAt,
        updatedAt: laterThan(current.updatedAt, now()),
        revoke: plan.revoke,
      });
      if (result.outcome === 'not-found') throw notFound(id);
      if (result.outcome === 'modified') {
        throw new SsoError('connection-modified', 'The connection was changed meanwhile; retry.');
      }
      await audit.record(tenantId, {
        actor,
        action: AUDIT_ACTIONS.ssoConnectionUpdated,
        target: { type: 'sso-connection', id },
        outcome: 'success',
        details: {
          changed: plan.changedFields,
          issuer: plan.changes.issuer,
          enabled: plan.changes.enabled,
          revokedSessions: result.revokedSessions,
        },
      });
      return result.connection;
    },
    async delete(slug, id, actor) {
      const tenantId = (await requireTenant(deps.getTenant, slug)).metadata.uid;
      const revokedSessions = await repository.deleteConnection(tenantId, id, now());
      if (revokedSessions === undefined) throw notFound(id);
      await audit.record(tenantId, {
        actor,
        action: AUDIT_ACTIONS.ssoConnectionDeleted,
        target: { type: 'sso-connection', id },
        outcome: 'success',
        details: { revokedSessions },
      });
    },
  };
}
