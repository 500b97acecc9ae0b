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

/** A login in flight, found by the digest of its `state`. */
export interface LoginTransactionRecord {
  id: string;
  tenantId: string;
  connectionId: string;
  browserBindingDigest: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: Date;
  consumedAt: Date | undefined;
}

export type LoginTransactionWrite = Omit<LoginTransactionRecord, 'id' | 'consumedAt'> & {
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
  deleteConnection(tenantId: string, id: string): Promise<boolean>;

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

  createSession(tenantId: string, session: SessionWrite): Promise<void>;
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
