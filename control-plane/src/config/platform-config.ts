import path from 'node:path';
import { z } from 'zod';
import type { RateLimitsPerMinute } from '../http/rate-limits.ts';

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url().optional())
  .optional();

const optionalString = z
  .string()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** A positive request count per minute, with its default. */
function perMinute(defaultValue: number) {
  return z.coerce.number().int().min(1).max(1_000_000).default(defaultValue);
}

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalUrl,
  REDIS_URL: optionalUrl,
  CITADEL_DATA_DIR: z.string().default('./.citadel'),
  CITADEL_ADMIN_TOKEN: optionalString.pipe(
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  /** The URL clients reach the platform at; defaults to http://localhost:PORT. */
  CITADEL_PUBLIC_URL: optionalUrl,
  CITADEL_RECONCILE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  CITADEL_RESYNC_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
  CITADEL_RATE_LIMIT_SCIM_PER_MINUTE: perMinute(600),
  CITADEL_RATE_LIMIT_SCIM_PER_IP_PER_MINUTE: perMinute(1_200),
  CITADEL_RATE_LIMIT_FAILED_AUTH_PER_IP_PER_MINUTE: perMinute(20),
  CITADEL_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: perMinute(30),
  CITADEL_RATE_LIMIT_LOGIN_PER_TENANT_PER_MINUTE: perMinute(300),
  CITADEL_RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE: perMinute(10),
  /** Console account mail: SMTP when set, `.eml` files in the data directory's outbox otherwise. */
  CITADEL_SMTP_URL: optionalString.pipe(
    z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  ),
  CITADEL_MAIL_FROM: optionalString.pipe(z.string().trim().min(3).max(320).optional()),
  CITADEL_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(43_200).default(720),
  CITADEL_SESSION_MAX_AGE_HOURS: z.coerce.number().int().min(1).max(8_760).default(168),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The platform's configuration, read once at start from the environment. */
export interface PlatformConfig {
  port: number;
  host: string;
  /** Use this PostgreSQL server; when undefined the platform runs its embedded one. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Absolute path of the platform's data directory. */
  dataDir: string;
  /** The operator token given in the environment, if any. */
  adminToken: string | undefined;
  publicUrl: string | undefined;
  reconcileConcurrency: number;
  resyncIntervalMs: number;
  /** Abuse limits, in requests (or failed authentications) per minute. */
  rateLimits: RateLimitsPerMinute;
  /** Console accounts: their mail and their sessions. */
  accounts: AccountsConfig;
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
}

export interface AccountsConfig {
  /** SMTP server for account mail; undefined: messages are written to `<dataDir>/mail/outbox`. */
  smtpUrl: string | undefined;
  /** The From of account mail; `Citadel <no-reply@<public URL's host>>` unless configured. */
  mailFrom: string;
  /** A console session ends after this long without a request (sliding). */
  sessionIdleMinutes: number;
  /** …and after this long whatever the activity. */
  sessionMaxAgeHours: number;
}

/** The From of account mail when CITADEL_MAIL_FROM is unset: no-reply at the public host. */
function defaultMailFrom(publicUrl: string | undefined): string {
  const host = publicUrl === undefined ? 'localhost' : new URL(publicUrl).hostname;
  return `Citadel <no-reply@${host}>`;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws a ConfigError naming every bad variable. */
export function readPlatformConfig(environment: NodeJS.ProcessEnv, cwd: string): PlatformConfig {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const env = parsed.data;
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    dataDir: path.resolve(cwd, env.CITADEL_DATA_DIR),
    adminToken: env.CITADEL_ADMIN_TOKEN,
    publicUrl: env.CITADEL_PUBLIC_URL,
    reconcileConcurrency: env.CITADEL_RECONCILE_CONCURRENCY,
    resyncIntervalMs: env.CITADEL_RESYNC_INTERVAL_MS,
    rateLimits: {
      scimPerToken: env.CITADEL_RATE_LIMIT_SCIM_PER_MINUTE,
      scimPerIp: env.CITADEL_RATE_LIMIT_SCIM_PER_IP_PER_MINUTE,
      failedAuthenticationsPerIp: env.CITADEL_RATE_LIMIT_FAILED_AUTH_PER_IP_PER_MINUTE,
      loginPerIp: env.CITADEL_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE,
      loginPerTenant: env.CITADEL_RATE_LIMIT_LOGIN_PER_TENANT_PER_MINUTE,
      loginPerAccount: env.CITADEL_RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE,
    },
    accounts: {
      smtpUrl: env.CITADEL_SMTP_URL,
      mailFrom: env.CITADEL_MAIL_FROM ?? defaultMailFrom(env.CITADEL_PUBLIC_URL),
      sessionIdleMinutes: env.CITADEL_SESSION_IDLE_MINUTES,
      sessionMaxAgeHours: env.CITADEL_SESSION_MAX_AGE_HOURS,
    },
    logLevel: env.LOG_LEVEL,
  };
}
