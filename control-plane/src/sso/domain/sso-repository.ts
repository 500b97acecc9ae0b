import type { SessionRevocation, SsoConnectionChanges } from './sso-connection-update.ts';
import type { MappedIdentity, TenantRole } from './sso-identity-rules.ts';

/** A stored connection; the client secret stays encrypted until a login needs it. */
export interface SsoConnectionRecord {
  id: string;
  tenantId: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecretCiphertext: Buffer;
  keyVersion: number;
  scopes: string[];
  emailClaim: string;
  nameClaim: string;
  groupsClaim: string;
  groupRoles: Record<string, TenantRole>;
  defaultRole: TenantRole | undefined;
  allowedEmailDomains: string[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type SsoConnectionWrite = Omit<SsoConnectionRecord, 'tenantId' | 'createdAt' | 'updatedAt'>;

/** One update of a connection, written with its session revocation in one transaction. */
export interface SsoConnectionUpdate {
  changes: SsoConnectionChanges;
  /**
   * The `updatedAt` the changes were planned from: the row is written only if it still has
   * it (compare-and-set), so two admins' concurrent updates cannot silently merge.
   */
  expectedUpdatedAt: Date;
  /** The new `updatedAt`; it always moves forward, so caches keyed on it see the change. */
  updatedAt: Date;
  revoke: SessionRevocation | undefined;
}

export type SsoConnectionUpdateResult =
  | { outcome: 'updated'; connection: SsoConnectionRecord; revokedSessions: number }
  | { outcome: 'not-found' }
  | { outcome: 'modified' };

/** A login in flight, found by the digest of its `state`. */
export interface LoginTransactionRecord {
  id: string;
  tenantId: string;
  /** The tenant's slug: the callback's per-tenant rate limit counts under it. */
  tenantSlug: string;
  connectionId: string;
  browserBindingDigest: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: Date;
  consumedAt: Date | undefined;
}

export type LoginTransactionWrite = Omit<
  LoginTransactionRecord,
  'id' | 'tenantSlug' | 'consumedAt'
> & {
  stateDigest: string;
};

/** A tenant user as SSO sees it. */
export interface SsoUserRecord {
  id: string;
  userName: string;
  active: boolean;
  roles: TenantRole[];
}

export interface SessionWrite {
  userId: string;
  connectionId: string;
  tokenDigest: string;
  expiresAt: Date;
}

export interface ActiveSession {
  id: string;
  connectionId: string | undefined;
  expiresAt: Date;
  user: SsoUserRecord;
}

/** Persistence of the SSO module. Every call but the state lookup is scoped by tenant. */
export interface SsoRepository {
  /** @throws {@link SsoError} `connection-name-taken` */
  createConnection(tenantId: string, connection: SsoConnectionWrite): Promise<SsoConnectionRecord>;
  listConnections(tenantId: string): Promise<SsoConnectionRecord[]>;
  findConnection(tenantId: string, id: string): Promise<SsoConnectionRecord | undefined>;
  /** @throws {@link SsoError} `connection-name-taken` */
  updateConnection(
    tenantId: string,
    id: string,
    update: SsoConnectionUpdate,
  ): Promise<SsoConnectionUpdateResult>;
  /**
   * Deletes the connection and, in the same transaction, revokes the sessions it created;
   * the number revoked, or undefined when there was no such connection.
   */
  deleteConnection(tenantId: string, id: string, now: Date): Promise<number | undefined>;

  createLoginTransaction(tenantId: string, transaction: LoginTransactionWrite): Promise<void>;
  /**
   * The state is the only thing the callback carries, so this lookup is by its digest
   * alone: a 256-bit secret the IdP hands back, which names its tenant.
   */
  findLoginTransaction(stateDigest: string): Promise<LoginTransactionRecord | undefined>;
  /** Marks the transaction used; false when it already was (or has expired): single use. */
  consumeLoginTransaction(tenantId: string, id: string, now: Date): Promise<boolean>;
  deleteLoginTransactionsExpiredBefore(before: Date): Promise<number>;

  /** Creates the user (userName = email) or updates the roles of the existing one. */
  upsertUser(tenantId: string, identity: MappedIdentity): Promise<SsoUserRecord>;

  /**
   * Creates the session while holding a share lock on its connection, once `admit` has
   * accepted the connection as it is at that moment (it throws to refuse). An update that
   * disables the connection either waits for this session and then revokes it, or commits
   * first and is what `admit` sees: no session outlives a disable.
   * @throws {@link SsoError} `connection-not-found` when the connection is gone
   */
  createSession(
    tenantId: string,
    session: SessionWrite,
    admit: (connection: SsoConnectionRecord) => void,
  ): Promise<void>;
  /** The session when it is neither revoked nor expired and its user is active. */
  findActiveSession(
    tenantId: string,
    tokenDigest: string,
    now: Date,
  ): Promise<ActiveSession | undefined>;
  revokeSession(
    tenantId: string,
    tokenDigest: string,
    now: Date,
  ): Promise<ActiveSession | undefined>;
}
