import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { digestSecret } from '../domain/secret-digest.ts';
import type { Logger } from '../logger.ts';
import { ScimError } from '../scim/domain/scim-error.ts';
import { SCIM_CONTENT_TYPE } from '../scim/http/scim-router.ts';
import { bearerToken } from './bearer-token.ts';
import { HttpProblem, problem } from './problem.ts';

/** At most `points` requests (or failures) per key in a fixed window of `durationSeconds`. */
export interface RateLimit {
  points: number;
  durationSeconds: number;
}

/** The platform's abuse limits. */
export interface RateLimitSettings {
  /** Every SCIM request from one client IP, counted before authentication. */
  scimPerIp: RateLimit;
  /** SCIM requests per bearer token (so per tenant), keyed on the token's SHA-256 digest. */
  scimPerToken: RateLimit;
  /** Gateway 401s per client IP; once used up, the IP gets 429 until the window ends. */
  failedAuthenticationsPerIp: RateLimit;
  /** Login and token requests per client IP. */
  loginPerIp: RateLimit;
  /** Login and token requests per tenant, from all IPs together. */
  loginPerTenant: RateLimit;
  /**
   * Login attempts per account (console sign-in, keyed by the e-mail's digest), from all IPs
   * together: the guard against a password guessed slowly from many addresses.
   */
  loginPerAccount?: RateLimit | undefined;
}

/** The per-minute counts the configuration holds (see platform-config.ts). */
export type RateLimitsPerMinute = { [Name in keyof RateLimitSettings]: number };

export interface RateLimitsDeps {
  /** When set, counters live in Redis and are shared by every control plane using it. */
  redis?: Redis | undefined;
  logger: Logger;
  limits: RateLimitSettings;
  /**
   * Namespaces the Redis keys, e.g. the platform's instance id: replicas of one platform
   * share their counters, other platforms on the same Redis do not.
   */
  keyPrefix?: string | undefined;
}

/** Counts failed authentications per client IP (the gateway's brute-force guard). */
export interface FailedAuthenticationLimiter {
  /** Throws a 429 problem when `ip` has used up its failures in the current window. */
  assertAllowed(ip: string): Promise<void>;
  /** Counts one failure for `ip`. */
  recordFailure(ip: string): Promise<void>;
}

export interface LoginLimitOptions {
  /** The tenant (id or slug) the request logs into; undefined when it names none. */
  tenantOf(request: Request): string | undefined;
  /**
   * The account the request logs into (an opaque key such as the e-mail's digest; never
   * the address itself), counted against `loginPerAccount`; undefined when it names none.
   */
  accountOf?(request: Request): string | undefined;
}

/** Express middleware factories for the platform's abuse limits. */
export interface RateLimits {
  /** For `/scim/v2`, before the SCIM router: per IP, then per token; 429 in the SCIM error schema. */
  scim(): RequestHandler;
  failedAuthentications: FailedAuthenticationLimiter;
  /**
   * For login and token endpoints: per IP, then per tenant, then per account; 429 as an
   * RFC 7807 problem.
   */
  limitLogin(options: LoginLimitOptions): RequestHandler;
}

/** `points` per minute for each limit. */
export function rateLimitsPerMinute(perMinute: RateLimitsPerMinute): RateLimitSettings {
  const minute = (points: number): RateLimit => ({ points, durationSeconds: 60 });
  return {
    scimPerIp: minute(perMinute.scimPerIp),
    scimPerToken: minute(perMinute.scimPerToken),
    failedAuthenticationsPerIp: minute(perMinute.failedAuthenticationsPerIp),
    loginPerIp: minute(perMinute.loginPerIp),
    loginPerTenant: minute(perMinute.loginPerTenant),
    ...(perMinute.loginPerAccount === undefined
      ? {}
      : { loginPerAccount: minute(perMinute.loginPerAccount) }),
  };
}

/** 429 with `Retry-After` (seconds), as an RFC 7807 problem. */
export function tooManyRequestsProblem(detail: string, retryAfterSeconds: number): HttpProblem {
  const base = problem({
    status: 429,
    slug: 'too-many-requests',
    title: 'Too many requests',
    detail,
    extensions: { retryAfterSeconds },
  });
  return new HttpProblem(base.problem, { 'Retry-After': String(retryAfterSeconds) });
}

/** The client address as Express sees it (`trust proxy` decides which hop that is). */
export function clientIpOf(request: Request): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}

function retryAfterSecondsOf(result: RateLimiterRes): number {
  return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
}

/**
 * Takes one point for `key`: undefined when allowed, the seconds to wait when over the
 * limit. A limiter failure lets the request through (and is logged): an outage of the
 * counters must not take the platform down with it.
 */
async function take(
  limiter: RateLimiterAbstract,
  key: string,
  logger: Logger,
): Promise<number | undefined> {
  try {
    await limiter.consume(key);
    return undefined;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return retryAfterSecondsOf(rejection);
    logger.warn({ err: rejection, limiter: limiter.keyPrefix }, 'rate limiter failed; allowing');
    return undefined;
  }
}

function sendScimTooMany(response: Response, retryAfterSeconds: number, detail: string): void {
  response
    .status(429)
    .set('Retry-After', String(retryAfterSeconds))
    .type(SCIM_CONTENT_TYPE)
    .send(JSON.stringify(new ScimError(429, detail).toBody()));
}

/**
 * Builds the limiters: RateLimiterRedis (with an in-memory insurance limiter for when Redis
 * is unreachable) when a Redis client is given, RateLimiterMemory otherwise.
 */
export function createRateLimits(deps: RateLimitsDeps): RateLimits {
  const logger = deps.logger.child({ component: 'rate-limits' });
  const prefix = `citadel:rate-limit:${deps.keyPrefix ?? 'default'}`;

  function limiter(name: keyof RateLimitSettings, limit: RateLimit): RateLimiterAbstract {
    const { points, durationSeconds } = limit;
    const options = { keyPrefix: `${prefix}:${name}`, points, duration: durationSeconds };
    const memory = new RateLimiterMemory(options);
    if (deps.redis === undefined) return memory;
    return new RateLimiterRedis({
      ...options,
      storeClient: deps.redis,
      // Fail over to the insurance limiter at once rather than queue behind a reconnect.
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  }

  const scimPerIp = limiter('scimPerIp', deps.limits.scimPerIp);
  const scimPerToken = limiter('scimPerToken', deps.limits.scimPerToken);
  const failures = limiter('failedAuthenticationsPerIp', deps.limits.failedAuthenticationsPerIp);
  const failuresAllowed = deps.limits.failedAuthenticationsPerIp.points;
  const loginPerIp = limiter('loginPerIp', deps.limits.loginPerIp);
  const loginPerTenant = limiter('loginPerTenant', deps.limits.loginPerTenant);
  const loginPerAccount =
    deps.limits.loginPerAccount && limiter('loginPerAccount', deps.limits.loginPerAccount);

  async function scimRetryAfter(request: Request): Promise<number | undefined> {
    const perIp = await take(scimPerIp, clientIpOf(request), logger);
    if (perIp !== undefined) return perIp;
    const token = bearerToken(request);
    return token === undefined ? undefined : take(scimPerToken, digestSecret(token), logger);
  }

  async function loginRetryAfter(
    request: Request,
    options: LoginLimitOptions,
  ): Promise<number | undefined> {
    const perIp = await take(loginPerIp, clientIpOf(request), logger);
    if (perIp !== undefined) return perIp;
    const tenant = options.tenantOf(request);
    const perTenant = tenant === undefined ? undefined : await take(loginPerTenant, tenant, logger);
    if (perTenant !== undefined) return perTenant;
    const account = options.accountOf?.(request);
    if (account === undefined || loginPerAccount === undefined) return undefined;
    return take(loginPerAccount, account, logger);
  }

  return {
    scim: () => async (request, response, next) => {
      const retryAfter = await scimRetryAfter(request);
      if (retryAfter === undefined) {
        next();
        return;
      }
      sendScimTooMany(response, retryAfter, 'Too many SCIM requests; retry later.');
    },

    failedAuthentications: {
      async assertAllowed(ip) {
        const current = await failures.get(ip).catch((error: unknown) => {
          logger.warn({ err: error }, 'rate limiter failed; allowing');
          return null;
        });
        if (current !== null && current.consumedPoints >= failuresAllowed) {
          throw tooManyRequestsProblem(
            'Too many failed authentications from this address; retry later.',
            retryAfterSecondsOf(current),
          );
        }
      },
      async recordFailure(ip) {
        await take(failures, ip, logger);
      },
    },

    limitLogin: (options) => async (request, _response, next) => {
      const retryAfter = await loginRetryAfter(request, options);
      next(
        retryAfter === undefined
          ? undefined
          : tooManyRequestsProblem('Too many login attempts; retry later.', retryAfter),
      );
    },
  };
}
