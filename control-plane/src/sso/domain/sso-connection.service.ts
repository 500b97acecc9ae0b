import { randomUUID } from 'node:crypto';
import type { TenantResource } from '@citadel/contracts';
import { AUDIT_ACTIONS, type AuditActor } from '../../audit/audit-entry.ts';
import type { AuditRecorder } from '../../audit/audit-recorder.ts';
import type { OidcRelyingParty } from '../adapters/oidc-relying-party.ts';
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
}

/** Connection management for operators and tenant admins. */
export interface SsoConnectionService {
  /** Discovers the issuer first: a wrong issuer fails here, not at the first login. */
  create(slug: string, input: SsoConnectionInput, actor: AuditActor): Promise<SsoConnectionRecord>;
  list(slug: string): Promise<SsoConnectionRecord[]>;
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

export function createSsoConnectionService(deps: SsoConnectionServiceDeps): SsoConnectionService {
  const { repository, audit } = deps;
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
        allowedEmailDomains: input.allowedEmailDomains.map((domain) => domain.toLowerCase()),
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
    async delete(slug, id, actor) {
      const tenantId = (await requireTenant(deps.getTenant, slug)).metadata.uid;
      if (!(await repository.deleteConnection(tenantId, id))) {
        throw new SsoError('connection-not-found', `No SSO connection "${id}".`);
      }
      await audit.record(tenantId, {
        actor,
        action: AUDIT_ACTIONS.ssoConnectionDeleted,
        target: { type: 'sso-connection', id },
        outcome: 'success',
      });
    },
  };
}
