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
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
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
    },
    logLevel: env.LOG_LEVEL,
  };
}
