import type { TenantResource } from '@citadel/contracts';
import { AUDIT_ACTIONS } from '../../audit/audit-entry.ts';
import type { AuditRecorder } from '../../audit/audit-recorder.ts';
import { requireTenant } from '../../sso/domain/sso-connection.service.ts';
import { SsoError } from '../../sso/domain/sso-error.ts';
import type { SsoLoginService } from '../../sso/domain/sso-login.service.ts';
import {
  audienceTarget,
  type AccessTokenService,
  type IssuedAccessToken,
  type TokenAudience,
} from './access-token.service.ts';

export interface TokenIssuanceDeps {
  tokens: AccessTokenService;
  logins: Pick<SsoLoginService, 'currentUser'>;
  getTenant: (slug: string) => Promise<TenantResource | undefined>;
  audit: Pick<AuditRecorder, 'record' | 'recordInBackground'>;
}

export interface TokenRequest {
  slug: string;
  /** The `citadel_session` cookie, if any. */
  sessionToken: string | undefined;
  audience: TokenAudience;
  /** The client address, for the audit log. */
  ip: string | undefined;
}

/**
 * Exchanges a live SSO session for an access token, and records both outcomes in the
 * tenant's audit log: an issuance (actor the user, target the audience) before the token
 * is handed out, a refusal (no session, revoked session, deactivated user) off the
 * request path, as the gateway records its 401s.
 */
export function createTokenIssuanceService(deps: TokenIssuanceDeps) {
  return {
    async issueForSession(request: TokenRequest): Promise<IssuedAccessToken> {
      const tenant = await requireTenant(deps.getTenant, request.slug);
      const tenantId = tenant.metadata.uid;
      const target = audienceTarget(request.audience);
      let user;
      try {
        user = await deps.logins.currentUser(request.slug, request.sessionToken);
      } catch (error) {
        if (error instanceof SsoError) {
          deps.audit.recordInBackground(tenantId, {
            actor: { type: 'user', ip: request.ip },
            action: AUDIT_ACTIONS.tokenIssuanceDenied,
            target,
            outcome: 'denied',
            details: { reason: error.code },
          });
        }
        throw error;
      }
      const issued = await deps.tokens.issue(
        { tenantId, tenantSlug: request.slug, userId: user.id, roles: user.roles },
        request.audience,
      );
      await deps.audit.record(tenantId, {
        actor: { type: 'user', id: user.id, ip: request.ip },
        action: AUDIT_ACTIONS.tokenIssued,
        target,
        outcome: 'success',
        details: { tokenId: issued.tokenId, kid: issued.kid, expiresIn: issued.expiresIn },
      });
      return issued;
    },
  };
}

export type TokenIssuanceService = ReturnType<typeof createTokenIssuanceService>;
