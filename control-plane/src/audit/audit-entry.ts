import type { JsonValue } from '@citadel/contracts';

/** Who acted. `ip` is the client address the platform saw; `id` the console account, user or token. */
export interface AuditActor {
  type: 'operator' | 'account' | 'user' | 'scim' | 'system';
  id?: string | undefined;
  ip?: string | undefined;
}

/** What was acted on, e.g. `{ type: 'api-key', id: '…' }`. */
export interface AuditTarget {
  type: string;
  id: string;
}

export type AuditOutcome = 'success' | 'denied' | 'failure';

/** What a caller records; the log adds the tenant, sequence, time and hashes. */
export interface AuditEvent {
  actor: AuditActor;
  /** Dotted verb, e.g. `tenant.suspended`; see {@link AUDIT_ACTIONS} for the platform's own. */
  action: string;
  target: AuditTarget;
  outcome: AuditOutcome;
  /** Any JSON object; it is hashed in its canonical form. */
  details?: Record<string, JsonValue | undefined> | undefined;
}

/** One entry of a tenant's audit log, as stored and as exported. */
export interface AuditEntry {
  tenantId: string;
  /** 1, 2, 3… per tenant, without gaps. */
  sequence: number;
  /** ISO 8601 with milliseconds, UTC. */
  occurredAt: string;
  actor: AuditActor;
  action: string;
  target: AuditTarget;
  outcome: AuditOutcome;
  details: Record<string, JsonValue | undefined>;
  /** hex SHA-256 of the entry before ({@link GENESIS_HASH} for the first). */
  previousHash: string;
  /** hex SHA-256 of {@link auditEntryHashInput}. */
  hash: string;
}

/** The actions the platform records itself. Other modules add theirs (SCIM, login, policies). */
export const AUDIT_ACTIONS = {
  tenantCreated: 'tenant.created',
  tenantSuspended: 'tenant.suspended',
  tenantResumed: 'tenant.resumed',
  tenantDeletionRequested: 'tenant.deletion-requested',
  apiKeyIssued: 'api-key.issued',
  apiKeyRevoked: 'api-key.revoked',
  gatewayAuthenticationDenied: 'gateway.authentication-denied',
  authorizationDenied: 'authorization.denied',
  policyCreated: 'policy.created',
  policyUpdated: 'policy.updated',
  policyDeleted: 'policy.deleted',
  scimUserCreated: 'scim.user.created',
  scimUserReplaced: 'scim.user.replaced',
  scimUserPatched: 'scim.user.patched',
  scimUserDeactivated: 'scim.user.deactivated',
  scimUserDeleted: 'scim.user.deleted',
  scimGroupCreated: 'scim.group.created',
  scimGroupReplaced: 'scim.group.replaced',
  scimGroupPatched: 'scim.group.patched',
  scimGroupDeleted: 'scim.group.deleted',
  scimTokenIssued: 'scim-token.issued',
  scimTokenRevoked: 'scim-token.revoked',
  ssoConnectionCreated: 'sso.connection.created',
  ssoConnectionUpdated: 'sso.connection.updated',
  ssoConnectionDeleted: 'sso.connection.deleted',
  ssoLoginSucceeded: 'sso.login.succeeded',
  ssoLoginFailed: 'sso.login.failed',
  ssoLogout: 'sso.logout',
  tokenIssued: 'token.issued',
  tokenIssuanceDenied: 'token.issuance-denied',
  accountSignInSucceeded: 'account.sign-in.succeeded',
  accountSignInFailed: 'account.sign-in.failed',
  memberInvited: 'member.invited',
  memberJoined: 'member.joined',
  memberRoleChanged: 'member.role-changed',
  memberRemoved: 'member.removed',
} as const;

// The chain's hashing rules are shared with offline verifiers (the CLI): one definition.
export {
  auditEntryHashInput,
  checkpointStatement,
  GENESIS_HASH,
  hashAuditEntry,
  type AuditCheckpoint,
} from '@citadel/contracts/audit';
