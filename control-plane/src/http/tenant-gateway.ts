import http from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { TenantResource } from '@citadel/contracts';
import { AUDIT_ACTIONS } from '../audit/audit-entry.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { ApiKeyService } from '../domain/api-key.service.ts';
import { secretMatchesDigest } from '../domain/secret-digest.ts';
import type {
  AccessTokenRefusal,
  AccessTokenService,
} from '../tokens/domain/access-token.service.ts';
import { bearerToken } from './bearer-token.ts';
import { HttpProblem, problem, sendProblem, unauthorizedProblem } from './problem.ts';
import { clientIpOf, type FailedAuthenticationLimiter } from './rate-limits.ts';

export interface TenantGatewayDeps {
  getTenant(slug: string): Promise<TenantResource | undefined>;
  /** The internal base URL of the tenant's data-plane host, while it runs. */
  resolveUpstream(slug: string): string | undefined;
  apiKeys: ApiKeyService;
  adminTokenDigest: string;
  /** Records rejected credentials in the tenant's audit log, off the request path. */
  audit?: AuditRecorder | undefined;
  /** Counts 401s per client IP; an IP over its limit gets 429 before its credentials are read. */
  failedAuthentications?: FailedAuthenticationLimiter | undefined;
  /**
   * Verifies users' access tokens (signature, claims, and the user's current state) and
   * signs the assertions that carry API-key and operator callers to the host.
   */
  tokens: Pick<AccessTokenService, 'verify' | 'assert'>;
}

/** Who the gateway let through. */
export type GatewayPrincipal =
  | { type: 'operator' }
  | { type: 'api-key'; id: string; scopes: string[] }
  | { type: 'user'; id: string; roles: string[] };

/**
 * Headers in this namespace are the platform's: a client's own are dropped. The host
 * trusts none of them; it believes the signed token in `Authorization` alone.
 */
const GATEWAY_HEADER_PREFIX = 'x-citadel-';
/** `/{service}…`: the first path segment names the data-plane service. */
const SERVICE_SEGMENT = /^\/([a-z][a-z0-9-]*)(?:\/|$)/;

/** Seconds a client should wait before retrying a tenant whose host is down. */
const RETRY_AFTER_SECONDS = 5;
/** Health paths are open: load balancers and status pages probe them without credentials. */
const OPEN_PATH = /^\/(?:[a-z]+\/)?healthz$/;
/** Hop-by-hop headers are not forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function unavailable(slug: string, detail: string): HttpProblem {
  const base = problem({
    status: 503,
    slug: 'tenant-unavailable',
    title: 'Tenant data plane unavailable',
    detail,
    extensions: { tenant: slug },
  });
  return new HttpProblem(base.problem, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
}

function unauthorized(): HttpProblem {
  return unauthorizedProblem('A tenant API key or token is required.');
}

/** Why the gateway answered 401, as its audit entry says. */
type DenialReason = 'missing-credentials' | 'invalid-credentials' | 'revoked-credentials';

interface Denial {
  reason: DenialReason;
  /** The user of a refused token, when it names one. */
  userId?: string | undefined;
  /** What exactly was wrong with a user's token. */
  cause?: AccessTokenRefusal | undefined;
}

/** Notes a 401 in the tenant's audit log without waiting for the write, and counts it per IP. */
async function recordDenial(
  deps: TenantGatewayDeps,
  request: Request,
  tenant: TenantResource,
  denial: Denial,
): Promise<HttpProblem> {
  await deps.failedAuthentications?.recordFailure(clientIpOf(request));
  deps.audit?.recordInBackground(tenant.metadata.uid, {
    actor: { type: 'user', id: denial.userId, ip: request.ip },
    action: AUDIT_ACTIONS.gatewayAuthenticationDenied,
    target: { type: 'tenant', id: tenant.metadata.uid },
    outcome: 'denied',
    details: {
      reason: denial.reason,
      cause: denial.cause,
      method: request.method,
      path: parseGatewayUrl(request.url).path,
    },
  });
  return unauthorized();
}

/** A caller the gateway admitted, with the token the host will verify. */
interface Admitted {
  principal: GatewayPrincipal;
  /** A user's own access token, or the gateway's signed assertion. */
  hostToken: string;
}

function serviceOf(path: string): string | undefined {
  return SERVICE_SEGMENT.exec(path)?.[1];
}

/** A user's token is refused when it does not verify, or its user was deactivated since. */
function userDenial(reason: AccessTokenRefusal, userId: string | undefined): Denial {
  return {
    reason: reason === 'invalid' ? 'invalid-credentials' : 'revoked-credentials',
    userId,
    cause: reason,
  };
}

/** The operator, a tenant API key, or a user's access token for the service in the path. */
async function admit(
  deps: TenantGatewayDeps,
  token: string,
  tenant: TenantResource,
  service: string,
): Promise<Admitted | Denial> {
  const target = { tenantId: tenant.metadata.uid, tenantSlug: tenant.metadata.name, service };
  if (secretMatchesDigest(token, deps.adminTokenDigest)) {
    const principal = { type: 'operator' } as const;
    return { principal, hostToken: await deps.tokens.assert(principal, target) };
  }
  const key = await deps.apiKeys.authenticate(tenant.metadata.uid, token);
  if (key) {
    const principal = { type: 'api-key', id: key.id, scopes: key.scopes } as const;
    return { principal, hostToken: await deps.tokens.assert(principal, target) };
  }
  const verified = await deps.tokens.verify(token, { tenantId: tenant.metadata.uid, service });
  if (!verified.ok) return userDenial(verified.reason, verified.userId);
  return { principal: verified.principal, hostToken: token };
}

async function authorize(
  deps: TenantGatewayDeps,
  request: Request,
  tenant: TenantResource,
  path: string,
): Promise<Admitted> {
  await deps.failedAuthentications?.assertAllowed(clientIpOf(request));
  const token = bearerToken(request);
  if (token === undefined) {
    throw await recordDenial(deps, request, tenant, { reason: 'missing-credentials' });
  }
  const service = serviceOf(path);
  if (service === undefined) {
    throw problem({
      status: 404,
      slug: 'not-found',
      title: 'Not found',
      detail: 'Name a data-plane service: /t/{slug}/{service}/….',
    });
  }
  const outcome = await admit(deps, token, tenant, service);
  if ('reason' in outcome) throw await recordDenial(deps, request, tenant, outcome);
  return outcome;
}

function forwardHeaders(request: Request, admission: Admission): http.OutgoingHttpHeaders {
  const { tenant, admitted } = admission;
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const forwarded =
      !HOP_BY_HOP.has(name) &&
      name !== 'host' &&
      name !== 'authorization' &&
      !name.startsWith(GATEWAY_HEADER_PREFIX);
    if (forwarded && value !== undefined) headers[name] = value;
  }
  headers['x-forwarded-for'] = request.socket.remoteAddress ?? '';
  headers['x-forwarded-host'] = request.get('host') ?? '';
  headers['x-forwarded-proto'] = request.protocol;
  headers['x-forwarded-prefix'] = `/t/${tenant.metadata.name}`;
  headers['x-request-id'] = request.id;
  headers['x-citadel-tenant-id'] = tenant.metadata.uid;
  // An API key never reaches the host: it sees the gateway's assertion instead.
  if (admitted) headers.authorization = `Bearer ${admitted.hostToken}`;
  return headers;
}

/** Who the gateway admitted, and to which tenant. */
interface Admission {
  tenant: TenantResource;
  /** Undefined on the open health paths. */
  admitted: Admitted | undefined;
}

function proxy(request: Request, response: Response, target: URL, admission: Admission): void {
  const { tenant } = admission;
  const outgoing = http.request(
    target,
    { method: request.method, headers: forwardHeaders(request, admission) },
    (reply) => {
      const headers = Object.fromEntries(
        Object.entries(reply.headers).filter(([name]) => !HOP_BY_HOP.has(name)),
      );
      response.writeHead(reply.statusCode ?? 502, headers);
      reply.pipe(response);
    },
  );
  outgoing.on('error', (error) => {
    if (response.headersSent) {
      response.destroy(error);
      return;
    }
    request.log.warn({ err: error, tenant: tenant.metadata.name }, 'tenant host unreachable');
    sendProblem(
      response,
      unavailable(tenant.metadata.name, 'The tenant data-plane host did not answer.'),
    );
  });
  request.pipe(outgoing);
}

/** `/{slug}{path}{?query}`, the gateway's part of a `/t/…` URL. */
interface GatewayRequestTarget {
  slug: string;
  path: string;
  search: string;
}

function parseGatewayUrl(url: string): GatewayRequestTarget {
  const match = /^\/([^/?]+)(\/[^?]*)?(\?.*)?$/.exec(url);
  return {
    slug: decodeURIComponent(match?.[1] ?? ''),
    path: match?.[2] ?? '/',
    search: match?.[3] ?? '',
  };
}

/** The tenant the request may reach; throws the problem that stops it otherwise. */
async function admitTenant(
  deps: TenantGatewayDeps,
  request: Request,
  { slug, path }: GatewayRequestTarget,
): Promise<Admission> {
  const tenant = slug === '' ? undefined : await deps.getTenant(slug);
  if (!tenant || tenant.metadata.deletionTimestamp !== undefined) {
    throw problem({
      status: 404,
      slug: 'tenant-not-found',
      title: 'Tenant not found',
      detail: `No tenant "${slug}".`,
    });
  }
  const admitted = OPEN_PATH.test(path) ? undefined : await authorize(deps, request, tenant, path);
  if (tenant.spec.suspended) {
    throw problem({
      status: 423,
      slug: 'tenant-suspended',
      title: 'Tenant suspended',
      detail: `Tenant "${slug}" is suspended.`,
    });
  }
  return { tenant, admitted };
}

/**
 * `/t/{slug}/…` → the tenant's data-plane host, with the prefix removed. Unknown tenant
 * → 404, suspended → 423, host down → 503 with Retry-After. Every forwarded request
 * carries a JWT the host verifies with the platform's JWKS: a user's own access token, or
 * a 60-second assertion the gateway signs for an API key or the operator.
 */
export function createTenantGateway(deps: TenantGatewayDeps): RequestHandler {
  return async (request, response, next) => {
    try {
      const target = parseGatewayUrl(request.url);
      const admission = await admitTenant(deps, request, target);
      const { slug, path, search } = target;
      const upstream = deps.resolveUpstream(slug);
      if (upstream === undefined)
        throw unavailable(slug, `Tenant "${slug}" has no running data-plane host.`);
      proxy(request, response, new URL(`${path}${search}`, upstream), admission);
    } catch (error) {
      next(error);
    }
  };
}
