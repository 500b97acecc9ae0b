import type { TenantResource, TenantSpec } from '@citadel/contracts';

/** A console account as the service sees it. */
export interface AccountRecord {
  id: string;
  /** As entered (trimmed), for display and mail. */
  email: string;
  displayName: string;
  /** PHC string, see password-hasher.ts. */
  passwordHash: string;
  emailVerifiedAt: Date | undefined;
  disabledAt: Date | undefined;
}

/** What a single-use e-mail token is for. */
export type EmailTokenPurpose = 'verify-email' | 'reset-password';

/** A token to store: only the digest of the secret that goes into the mail. */
export interface NewEmailToken {
  purpose: EmailTokenPurpose;
  tokenDigest: string;
  /** Set by the application's clock, like `expiresAt`, so the two are always comparable. */
  createdAt: Date;
  expiresAt: Date;
}

/** A stored token and the account it belongs to. */
export interface EmailTokenRecord {
  accountId: string;
  purpose: EmailTokenPurpose;
  expiresAt: Date;
  consumedAt: Date | undefined;
  account: AccountRecord;
}

/** Everything a sign-up writes, in one transaction. */
export interface SignUpRecords {
  email: string;
  displayName: string;
  passwordHash: string;
  organization: { slug: string; displayName: string };
  /** Validated beforehand by the tenant service (slug rules, known plan). */
  tenantSpec: TenantSpec;
  verification: NewEmailToken;
}

export interface SignedUp {
  account: AccountRecord;
  organization: { id: string; slug: string; displayName: string };
  tenant: TenantResource;
}

/**
 * Accounts and their e-mail tokens. Accounts are platform-wide (one person, many
 * organisations), so they are looked up by id or by e-mail; what an account may reach in a
 * tenant is decided by organisation membership, elsewhere.
 */
export interface AccountRepository {
  /**
   * Writes the account (unverified), its organisation, the owner membership, the tenant and
   * the verification token in one transaction: all or nothing. Throws AccountError
   * `email-taken` / `organization-slug-taken`, or TenantError `tenant-exists`.
   */
  signUp(records: SignUpRecords): Promise<SignedUp>;
  findByEmail(email: string): Promise<AccountRecord | undefined>;
  findById(accountId: string): Promise<AccountRecord | undefined>;
  updatePasswordHash(accountId: string, passwordHash: string): Promise<void>;
  /**
   * Stores `token` unless the account has one of the same purpose made after `notBefore`
   * (mails are spaced out); false when it did not. Concurrent calls for one account are
   * serialised, so a burst of requests stores one token.
   */
  addEmailTokenUnlessRecent(
    accountId: string,
    token: NewEmailToken,
    notBefore: Date,
  ): Promise<boolean>;
  findEmailToken(
    tokenDigest: string,
    purpose: EmailTokenPurpose,
  ): Promise<EmailTokenRecord | undefined>;
  /**
   * Consumes a live verification token and marks the address verified; false when the token
   * was consumed or expired in the meantime.
   */
  consumeVerificationToken(tokenDigest: string, now: Date): Promise<boolean>;
  /**
   * Consumes a live reset token, sets the new hash, marks the address verified (the mail
   * reached its owner) and voids the account's other reset tokens; false when the token was
   * consumed or expired in the meantime.
   */
  consumeResetToken(tokenDigest: string, passwordHash: string, now: Date): Promise<boolean>;
}

/** The key e-mail addresses are unique by: trimmed and lower-cased. */
export function emailKeyOf(email: string): string {
  return email.trim().toLowerCase();
}
