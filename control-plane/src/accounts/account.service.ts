import { randomBytes } from 'node:crypto';
import { findTenantSlugProblem, TENANT_SLUG_PROBLEM_MESSAGES } from '@citadel/contracts';
import { AUDIT_ACTIONS } from '../audit/audit-entry.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { digestSecret } from '../domain/secret-digest.ts';
import type { TenantService } from '../domain/tenant.service.ts';
import type { Logger } from '../logger.ts';
import { AccountError } from './account-error.ts';
import { passwordResetMail, verificationMail, type AccountMailInput } from './account-mail.ts';
import type {
  AccountRecord,
  AccountRepository,
  EmailTokenPurpose,
  EmailTokenRecord,
  NewEmailToken,
  SignedUp,
} from './account-repository.ts';
import type { ConsoleSession } from './console-session.ts';
import type {
  ConsoleSessionService,
  SessionOrigin,
  StartedSession,
} from './console-session.service.ts';
import type { Mailer, MailMessage } from './mailer.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { findPasswordPolicyViolation, PASSWORD_POLICY_MESSAGES } from './password-policy.ts';

const HOUR_MS = 60 * 60 * 1000;
/** How long the link in each kind of mail works. */
const TOKEN_VALIDITY_HOURS: Record<EmailTokenPurpose, number> = {
  'verify-email': 24,
  'reset-password': 1,
};
/** At most one mail of a kind per account in this interval, however often it is asked for. */
const MAIL_INTERVAL_MS = 60 * 1000;
/** E-mail tokens are 256-bit secrets in base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface SignUpInput {
  email: string;
  password: string;
  displayName: string;
  organization: { slug: string; displayName: string };
  tenant: { slug: string; displayName?: string | undefined; plan: string };
}

export interface Credentials {
  email: string;
  password: string;
}

export interface LoginOrigin extends SessionOrigin {
  /** The secret of a session the browser already holds: it is ended (no session fixation). */
  previousSecret?: string | undefined;
}

/** One sign-in attempt on an existing account. */
export interface SignInAttempt {
  accountId: string;
  outcome: 'success' | 'failure';
  /** Why it failed: wrong password, unverified e-mail, or a disabled account. */
  reason?: 'invalid-credentials' | 'email-not-verified' | 'account-disabled' | undefined;
  ip: string | undefined;
}

export interface AccountServiceDeps {
  repository: AccountRepository;
  hasher: PasswordHasher;
  sessions: ConsoleSessionService;
  tenants: Pick<TenantService, 'prepareSpec' | 'requestReconcile'>;
  mailer: Mailer;
  audit?: AuditRecorder | undefined;
  /**
   * Told of every sign-in attempt on an existing account (success or why not), to record it
   * where the account has access; unknown addresses are not reported (nothing to attach to).
   */
  onSignIn?: ((attempt: SignInAttempt) => Promise<void>) | undefined;
  /** The base of links in mail (the public URL, or the local address when none is set). */
  linkBaseUrl: () => string;
  logger: Logger;
  now?: () => Date;
}

function assertPasswordPolicy(password: string, email: string): void {
  const violation = findPasswordPolicyViolation(password, email);
  if (violation) {
    throw new AccountError('weak-password', PASSWORD_POLICY_MESSAGES[violation], {
      reason: violation,
    });
  }
}

/** Organisation slugs follow the tenant slug rules: both end up in URLs and names. */
function assertOrganizationSlug(slug: string): void {
  const problem = findTenantSlugProblem(slug);
  if (problem) {
    throw new AccountError(
      'invalid-organization-slug',
      `Organisation slug "${slug}" ${TENANT_SLUG_PROBLEM_MESSAGES[problem]}.`,
      { slug, reason: problem },
    );
  }
}

function invalidCredentials(): AccountError {
  return new AccountError('invalid-credentials', 'The e-mail address or password is wrong.');
}

/**
 * The console account use cases: sign-up, e-mail verification, password sign-in and
 * changes, password reset. Mails that answer "send me a link" go out in the background, so
 * whether an address has an account shows neither in the answer nor in its timing.
 */
export function createAccountService(deps: AccountServiceDeps) {
  const { repository, hasher, sessions } = deps;
  const now = deps.now ?? (() => new Date());
  const pending = new Set<Promise<void>>();
  let dummyHash: Promise<string> | undefined;

  function inBackground(task: string, work: () => Promise<void>): void {
    const running: Promise<void> = work()
      .catch((error: unknown) => deps.logger.error({ err: error, task }, 'account task failed'))
      .finally(() => pending.delete(running));
    pending.add(running);
  }

  function newEmailToken(purpose: EmailTokenPurpose): { secret: string; token: NewEmailToken } {
    const secret = randomBytes(32).toString('base64url');
    const createdAt = now();
    const expiresAt = new Date(createdAt.getTime() + TOKEN_VALIDITY_HOURS[purpose] * HOUR_MS);
    return { secret, token: { purpose, tokenDigest: digestSecret(secret), createdAt, expiresAt } };
  }

  function mailInput(account: AccountRecord, secret: string, purpose: EmailTokenPurpose) {
    const input: AccountMailInput = {
      to: account.email,
      displayName: account.displayName,
      publicUrl: deps.linkBaseUrl(),
      token: secret,
      validForHours: TOKEN_VALIDITY_HOURS[purpose],
    };
    return input;
  }

  /** A mail whose loss is not the caller's problem: the link can be asked for again. */
  async function sendLogged(message: MailMessage, kind: string): Promise<void> {
    try {
      await deps.mailer.send(message);
    } catch (error) {
      deps.logger.error({ err: error, kind }, 'account mail could not be sent');
    }
  }

  /** Issues a token of `purpose` and mails it, unless one went out within the interval. */
  async function mailToken(account: AccountRecord, purpose: EmailTokenPurpose): Promise<void> {
    const { secret, token } = newEmailToken(purpose);
    const notBefore = new Date(now().getTime() - MAIL_INTERVAL_MS);
    if (!(await repository.addEmailTokenUnlessRecent(account.id, token, notBefore))) return;
    const input = mailInput(account, secret, purpose);
    const message = purpose === 'verify-email' ? verificationMail(input) : passwordResetMail(input);
    await sendLogged(message, purpose);
  }

  /** The stored token a link carries, when it is still usable. */
  async function usableToken(token: string, purpose: EmailTokenPurpose): Promise<EmailTokenRecord> {
    const record = TOKEN_PATTERN.test(token)
      ? await repository.findEmailToken(digestSecret(token), purpose)
      : undefined;
    if (!record || record.consumedAt !== undefined || record.account.disabledAt !== undefined) {
      throw new AccountError('token-invalid', 'The link is not valid or was already used.');
    }
    if (record.expiresAt.getTime() <= now().getTime()) {
      throw new AccountError('token-expired', 'The link has expired; ask for a new one.');
    }
    return record;
  }

  async function recordTenantCreated(signedUp: SignedUp, ip: string | undefined): Promise<void> {
    const { tenant, account, organization } = signedUp;
    await deps.audit?.record(tenant.metadata.uid, {
      actor: { type: 'account', id: account.id, ip },
      action: AUDIT_ACTIONS.tenantCreated,
      target: { type: 'tenant', id: tenant.metadata.uid },
      outcome: 'success',
      details: {
        slug: tenant.metadata.name,
        plan: tenant.spec.plan,
        organization: organization.slug,
      },
    });
  }

  /** Hashes a fixed random password once; unknown e-mails are checked against it. */
  function passwordHashOf(account: AccountRecord | undefined): Promise<string> {
    if (account) return Promise.resolve(account.passwordHash);
    dummyHash ??= hasher.hash(randomBytes(32).toString('base64url'));
    return dummyHash;
  }

  async function rehashIfWeak(account: AccountRecord, password: string): Promise<void> {
    if (!hasher.needsRehash(account.passwordHash)) return;
    await repository.updatePasswordHash(account.id, await hasher.hash(password));
  }

  return {
    /** Creates the account, its organisation and first tenant; mails the verification link. */
    async signUp(input: SignUpInput, origin: SessionOrigin): Promise<SignedUp> {
      assertPasswordPolicy(input.password, input.email);
      assertOrganizationSlug(input.organization.slug);
      const tenantSpec = await deps.tenants.prepareSpec({
        slug: input.tenant.slug,
        displayName: input.tenant.displayName ?? input.organization.displayName,
        plan: input.tenant.plan,
      });
      const { secret, token } = newEmailToken('verify-email');
      const signedUp = await repository.signUp({
        email: input.email.trim(),
        displayName: input.displayName,
        passwordHash: await hasher.hash(input.password),
        organization: input.organization,
        tenantSpec,
        verification: token,
      });
      deps.tenants.requestReconcile(signedUp.tenant.metadata.name);
      await recordTenantCreated(signedUp, origin.ip);
      await sendLogged(
        verificationMail(mailInput(signedUp.account, secret, 'verify-email')),
        'verify-email',
      );
      return signedUp;
    },

    async verifyEmail(token: string): Promise<void> {
      await usableToken(token, 'verify-email');
      if (!(await repository.consumeVerificationToken(digestSecret(token), now()))) {
        throw new AccountError('token-invalid', 'The link is not valid or was already used.');
      }
    },

    /** Mails a new verification link when the address has an unverified account. */
    resendVerification(email: string): void {
      inBackground('resend-verification', async () => {
        const account = await repository.findByEmail(email);
        if (!account || account.disabledAt || account.emailVerifiedAt) return;
        await mailToken(account, 'verify-email');
      });
    },

    /**
     * Checks the password and starts a session. Unknown addresses cost one hash like known
     * ones, and get the same answer as a wrong password; whether an account is unverified or
     * disabled is only told to whoever knows its password.
     */
    async logIn(credentials: Credentials, origin: LoginOrigin) {
      const account = await repository.findByEmail(credentials.email);
      const matches = await hasher.verify(credentials.password, await passwordHashOf(account));
      if (!account) throw invalidCredentials();
      const report = (outcome: SignInAttempt['outcome'], reason?: SignInAttempt['reason']) => {
        const hook = deps.onSignIn;
        if (hook)
          inBackground('sign-in audit', () =>
            hook({ accountId: account.id, outcome, reason, ip: origin.ip }),
          );
      };
      if (!matches) {
        report('failure', 'invalid-credentials');
        throw invalidCredentials();
      }
      if (account.disabledAt) {
        report('failure', 'account-disabled');
        throw new AccountError('account-disabled', 'The account is disabled.');
      }
      if (!account.emailVerifiedAt) {
        report('failure', 'email-not-verified');
        throw new AccountError('email-not-verified', 'Confirm your e-mail address first.');
      }
      report('success');
      await rehashIfWeak(account, credentials.password);
      const previous = await sessions.resolveSecret(origin.previousSecret);
      if (previous) await sessions.end(previous);
      const started: StartedSession = await sessions.start(account, origin);
      return { account, started };
    },

    /** Changes the password of the signed-in account and ends its other sessions. */
    async changePassword(
      session: ConsoleSession,
      change: { currentPassword: string; newPassword: string },
    ): Promise<void> {
      const account = await repository.findById(session.accountId);
      if (!account || !(await hasher.verify(change.currentPassword, account.passwordHash))) {
        throw new AccountError('current-password-incorrect', 'The current password is wrong.');
      }
      assertPasswordPolicy(change.newPassword, account.email);
      await repository.updatePasswordHash(account.id, await hasher.hash(change.newPassword));
      await sessions.endAll(account.id, session);
    },

    /** Mails a reset link when the address has an active account. */
    requestPasswordReset(email: string): void {
      inBackground('password-reset', async () => {
        const account = await repository.findByEmail(email);
        if (!account || account.disabledAt) return;
        await mailToken(account, 'reset-password');
      });
    },

    /** Sets a new password from a reset link and ends every session of the account. */
    async confirmPasswordReset(input: { token: string; password: string }): Promise<void> {
      const record = await usableToken(input.token, 'reset-password');
      assertPasswordPolicy(input.password, record.account.email);
      const passwordHash = await hasher.hash(input.password);
      if (!(await repository.consumeResetToken(digestSecret(input.token), passwordHash, now()))) {
        throw new AccountError('token-invalid', 'The link is not valid or was already used.');
      }
      await sessions.endAll(record.accountId);
    },

    /** Waits for background mail work (shutdown, tests). */
    async settle(): Promise<void> {
      await Promise.all(pending);
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
