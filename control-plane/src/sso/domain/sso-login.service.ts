import { randomBytes } from 'node:crypto';
import type { TenantResource } from '@citadel/contracts';
import { AUDIT_ACTIONS, type AuditActor } from '../../audit/audit-entry.ts';
import type { AuditRecorder } from '../../audit/audit-recorder.ts';
import type { Logger } from '../../logger.ts';
import { digestSecret, secretMatchesDigest } from '../../domain/secret-digest.ts';
import type { OidcClientSettings, OidcRelyingParty } from '../adapters/oidc-relying-party.ts';
import { requireTenant } from './sso-connection.service.ts';
import { SsoError } from './sso-error.ts';
import { mapIdentity, safeReturnTo, type TenantRole } from './sso-identity-rules.ts';
import type {
  LoginTransactionRecord,
  SsoConnectionRecord,
  SsoRepository,
} from './sso-repository.ts';
import { decryptClientSecret, type SsoSecretCipher } from './sso-secrets.ts';

export interface SsoLoginServiceDeps {
  repository: SsoRepository;
  relyingParty: OidcRelyingParty;
  cipher: SsoSecretCipher;
  audit: AuditRecorder;
  logger: Logger;
  getTenant: (slug: string) => Promise<TenantResource | undefined>;
  /** How long a started login may take (default 10 minutes). */
  loginTtlMs?: number;
  /** How long a session lasts (default 8 hours). */
  sessionTtlMs?: number;
  now?: () => Date;
}

export interface StartLoginInput {
  connectionId: string;
  returnTo: string | undefined;
  redirectUri: string;
  ip: string | undefined;
}

/** Where to send the browser, and the secret that binds the login to it (a cookie). */
export interface StartedLogin {
  authorizationUrl: string;
  browserBinding: string;
  expiresAt: Date;
}

export interface CallbackInput {
  /** The callback's query parameters, as the IdP sent them. */
  query: URLSearchParams;
  browserBinding: string | undefined;
  redirectUri: string;
  ip: string | undefined;
}

export interface CompletedLogin {
  sessionToken: string;
  expiresAt: Date;
  returnTo: string;
}

export interface SessionUser {
  id: string;
  userName: string;
  roles: TenantRole[];
}

/** Browser login through a tenant's OpenID Connect IdP, and the sessions it creates. */
export interface SsoLoginService {
  startLogin(slug: string, input: StartLoginInput): Promise<StartedLogin>;
  completeLogin(input: CallbackInput): Promise<CompletedLogin>;
  /**
   * The slug of the tenant a callback's `state` belongs to, so the callback counts against
   * that tenant's login limit; undefined for an unknown state.
   */
  tenantOfLoginState(state: string | undefined): Promise<string | undefined>;
  /** @throws {@link SsoError} `session-required` when the token is no live session of the tenant */
  currentUser(slug: string, sessionToken: string | undefined): Promise<SessionUser>;
  /** Ends the session; returns the IdP's logout URL when it has one. */
  logout(
    slug: string,
    sessionToken: string | undefined,
    ip: string | undefined,
  ): Promise<{ endSessionUrl: string | undefined }>;
}

/** 256 bits of randomness, base64url. */
function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function mappingOf(connection: SsoConnectionRecord) {
  return {
    emailClaim: connection.emailClaim,
    nameClaim: connection.nameClaim,
    groupsClaim: connection.groupsClaim,
    groupRoles: connection.groupRoles,
    defaultRole: connection.defaultRole,
    allowedEmailDomains: connection.allowedEmailDomains,
  };
}

/** The failure reasons that are the caller's doing (403) rather than a bad request (400). */
const DENIED = new Set(['connection-disabled', 'email-domain-not-allowed', 'user-inactive']);

export function createSsoLoginService(deps: SsoLoginServiceDeps): SsoLoginService {
  const { repository, relyingParty, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const loginTtlMs = deps.loginTtlMs ?? 10 * 60_000;
  const sessionTtlMs = deps.sessionTtlMs ?? 8 * 60 * 60_000;

  function clientSettings(connection: SsoConnectionRecord): OidcClientSettings {
    return {
      // A new version (any update, a rotated secret included) gets a new configuration.
      cacheKey: `${connection.id}:${connection.updatedAt.toISOString()}`,
      issuer: connection.issuer,
      clientId: connection.clientId,
      readClientSecret: () => decryptClientSecret(deps.cipher, connection),
    };
  }

  async function recordFailure(
    tenantId: string,
    connectionId: string,
    error: unknown,
    actor: AuditActor,
  ): Promise<void> {
    const code = error instanceof SsoError ? error.code : 'internal-error';
    await audit.record(tenantId, {
      actor,
      action: AUDIT_ACTIONS.ssoLoginFailed,
      target: { type: 'sso-connection', id: connectionId },
      outcome: DENIED.has(code) ? 'denied' : 'failure',
      details: { reason: code, message: error instanceof Error ? error.message : String(error) },
    });
  }

  async function enabledConnection(tenantId: string, id: string): Promise<SsoConnectionRecord> {
    const connection = await repository.findConnection(tenantId, id);
    if (!connection) throw new SsoError('connection-not-found', `No SSO connection "${id}".`);
    if (!connection.enabled) {
      throw new SsoError('connection-disabled', 'This SSO connection is disabled.');
    }
    return connection;
  }

  async function openLogin(tenant: TenantResource, input: StartLoginInput): Promise<StartedLogin> {
    const tenantId = tenant.metadata.uid;
    const returnTo = safeReturnTo(input.returnTo);
    if (tenant.spec.suspended)
      throw new SsoError('connection-disabled', 'The tenant is suspended.');
    const connection = await enabledConnection(tenantId, input.connectionId);
    const state = randomToken();
    const nonce = randomToken();
    const codeVerifier = randomToken();
    const browserBinding = randomToken();
    const expiresAt = new Date(now().getTime() + loginTtlMs);
    const authorizationUrl = await relyingParty.authorizationUrl(clientSettings(connection), {
      redirectUri: input.redirectUri,
      scopes: connection.scopes,
      state,
      nonce,
      codeVerifier,
    });
    await repository.createLoginTransaction(tenantId, {
      tenantId,
      connectionId: connection.id,
      stateDigest: digestSecret(state),
      browserBindingDigest: digestSecret(browserBinding),
      nonce,
      codeVerifier,
      returnTo,
      expiresAt,
    });
    return { authorizationUrl: authorizationUrl.href, browserBinding, expiresAt };
  }

  /** Checks the transaction is fresh and this browser's, then uses it up. */
  async function consume(transaction: LoginTransactionRecord, binding: string | undefined) {
    if (transaction.consumedAt !== undefined) {
      throw new SsoError('login-state-replayed', 'This login response was already used.');
    }
    if (transaction.expiresAt <= now()) {
      throw new SsoError('login-state-expired', 'The login took too long; start again.');
    }
    if (binding === undefined || !secretMatchesDigest(binding, transaction.browserBindingDigest)) {
      throw new SsoError('login-browser-mismatch', 'The login was started in another browser.');
    }
    if (!(await repository.consumeLoginTransaction(transaction.tenantId, transaction.id, now()))) {
      throw new SsoError('login-state-replayed', 'This login response was already used.');
    }
  }

  async function finishLogin(
    transaction: LoginTransactionRecord,
    input: CallbackInput,
    state: string,
  ): Promise<{ token: string; expiresAt: Date }> {
    await consume(transaction, input.browserBinding);
    const { tenantId } = transaction;
    const connection = await enabledConnection(tenantId, transaction.connectionId);
    const callbackUrl = new URL(input.redirectUri);
    callbackUrl.search = input.query.toString();
    const claims = await relyingParty.completeLogin(clientSettings(connection), {
      callbackUrl,
      expectedState: state,
      expectedNonce: transaction.nonce,
      codeVerifier: transaction.codeVerifier,
    });
    const identity = mapIdentity(claims, mappingOf(connection));
    const user = await repository.upsertUser(tenantId, identity);
    if (!user.active) throw new SsoError('user-inactive', 'This user is deactivated.');
    const token = randomToken();
    const expiresAt = new Date(now().getTime() + sessionTtlMs);
    const session = {
      userId: user.id,
      connectionId: connection.id,
      tokenDigest: digestSecret(token),
      expiresAt,
    };
    // The connection may have been disabled or narrowed during the round trip to the IdP:
    // it is checked again under the lock that orders this session with such an update.
    await repository.createSession(tenantId, session, (latest) => {
      if (!latest.enabled) {
        throw new SsoError('connection-disabled', 'This SSO connection is disabled.');
      }
      mapIdentity(claims, mappingOf(latest));
    });
    await audit.record(tenantId, {
      actor: { type: 'user', id: user.id, ip: input.ip },
      action: AUDIT_ACTIONS.ssoLoginSucceeded,
      target: { type: 'sso-connection', id: connection.id },
      outcome: 'success',
      details: { userName: user.userName, subject: identity.subject, roles: user.roles },
    });
    return { token, expiresAt };
  }

  return {
    async startLogin(slug, input) {
      const tenant = await requireTenant(deps.getTenant, slug);
      try {
        return await openLogin(tenant, input);
      } catch (error) {
        await recordFailure(tenant.metadata.uid, input.connectionId, error, {
          type: 'user',
          ip: input.ip,
        });
        throw error;
      }
    },

    async completeLogin(input) {
      const state = input.query.get('state') ?? '';
      const transaction =
        state === '' ? undefined : await repository.findLoginTransaction(digestSecret(state));
      // An unknown state names no tenant: there is no audit log to write to.
      if (!transaction)
        throw new SsoError('login-state-invalid', 'Unknown or missing login state.');
      // Housekeeping off the request path: transactions are useless once expired.
      repository
        .deleteLoginTransactionsExpiredBefore(new Date(now().getTime() - loginTtlMs))
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'pruning SSO logins failed'));
      try {
        const session = await finishLogin(transaction, input, state);
        return {
          sessionToken: session.token,
          expiresAt: session.expiresAt,
          returnTo: transaction.returnTo,
        };
      } catch (error) {
        await recordFailure(transaction.tenantId, transaction.connectionId, error, {
          type: 'user',
          ip: input.ip,
        });
        throw error;
      }
    },

    async tenantOfLoginState(state) {
      if (state === undefined || state === '') return undefined;
      return (await repository.findLoginTransaction(digestSecret(state)))?.tenantSlug;
    },

    async currentUser(slug, sessionToken) {
      const tenant = await requireTenant(deps.getTenant, slug);
      const session =
        sessionToken === undefined
          ? undefined
          : await repository.findActiveSession(
              tenant.metadata.uid,
              digestSecret(sessionToken),
              now(),
            );
      if (!session) throw new SsoError('session-required', 'No valid session for this tenant.');
      return { id: session.user.id, userName: session.user.userName, roles: session.user.roles };
    },

    async logout(slug, sessionToken, ip) {
      const tenant = await requireTenant(deps.getTenant, slug);
      const tenantId = tenant.metadata.uid;
      const session =
        sessionToken === undefined
          ? undefined
          : await repository.revokeSession(tenantId, digestSecret(sessionToken), now());
      if (!session) throw new SsoError('session-required', 'No valid session for this tenant.');
      await audit.record(tenantId, {
        actor: { type: 'user', id: session.user.id, ip },
        action: AUDIT_ACTIONS.ssoLogout,
        target: { type: 'session', id: session.id },
        outcome: 'success',
      });
      const connection =
        session.connectionId === undefined
          ? undefined
          : await repository.findConnection(tenantId, session.connectionId);
      const endSessionUrl = connection
        ? await relyingParty.endSessionUrl(clientSettings(connection)).catch(() => undefined)
        : undefined;
      return { endSessionUrl };
    },
  };
}
