import http from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { TenantResource } from '@citadel/contracts';
import { AUDIT_ACTIONS } from '../audit/audit-entry.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { ApiKeyService } from '../domain/api-key.service.ts';
import { secretMatchesDigest } from '../domain/secret-digest.ts';
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
  /** Checks a user's access token for this tenant and service; undefined when it does not verify. */
  verifyAccessToken?:
    | ((
        token: string,
        expected: { tenantId: string; service: string },
      ) => Promise<GatewayPrincipal | undefined>)
    | undefined;
}

/** Who the gateway let through; the tenant's host reads it from {@link PRINCIPAL_HEADER}. */
export type GatewayPrincipal =
  | { type: 'operator' }
  | { type: 'api-key'; id: string }
  | { type: 'user'; id: string; roles: string[] };

/** The verified principal, as JSON, on every request the gateway forwards. */
export const PRINCIPAL_HEADER = 'x-citadel-principal';
/** Headers in this namespace are the gateway's word: a client's own are dropped. */
const GATEWAY_HEADER_PREFIX = 'x-citadel-';

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

/** Notes a 401 in the tenant's audit log without waiting for the write, and counts it per IP. */
async function recordDenial(
  deps: TenantGatewayDeps,
  request: Request,
  tenant: TenantResource,
  reason: 'missing-credentials' | 'invalid-credentials',
): Promise<HttpProblem> {
  await deps.failedAuthentications?.recordFailure(clientIpOf(request));
  deps.audit?.recordInBackground(tenant.metadata.uid, {
    actor: { type: 'user', ip: request.ip },
    action: AUDIT_ACTIONS.gatewayAuthenticationDenied,
    target: { type: 'tenant', id: tenant.metadata.uid },
    outcome: 'denied',
    details: { reason, method: request.method, path: parseGatewayUrl(request.url).path },
  });
  return unauthorized();
}

/** The operator, a tenant API key, or a user's access token for the service in the path. */
async function principalOf(
  deps: TenantGatewayDeps,
  token: string,
  tenant: TenantResource,
  path: string,
): Promise<GatewayPrincipal | undefined> {
  if (secretMatchesDigest(token, deps.adminTokenDigest)) return { type: 'operator' };
  const key = await deps.apiKeys.authenticate(tenant.metadata.uid, token);
  if (key) return { type: 'api-key', id: key.id };
  const service = /^\/([^/]+)/.exec(path)?.[1];
  if (service === undefined || deps.verifyAccessToken === undefined) return undefined;
  return deps.verifyAccessToken(token, { tenantId: tenant.metadata.uid, service });
}

async function authorize(
  deps: TenantGatewayDeps,
  request: Request,
  tenant: TenantResource,
  path: string,
): Promise<GatewayPrincipal> {
  await deps.failedAuthentications?.assertAllowed(clientIpOf(request));
  const token = bearerToken(request);
  if (token === undefined) throw await recordDenial(deps, request, tenant, 'missing-credentials');
  const principal = await principalOf(deps, token, tenant, path);
  if (!principal) throw await recordDenial(deps, request, tenant, 'invalid-credentials');
  return principal;
}

function forwardHeaders(
  request: Request,
  tenant: TenantResource,
  principal: GatewayPrincipal | undefined,
): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const forwarded =
      !HOP_BY_HOP.has(name) && name !== 'host' && !name.startsWith(GATEWAY_HEADER_PREFIX);
    if (forwarded && value !== undefined) headers[name] = value;
  }
  headers['x-forwarded-for'] = request.socket.remoteAddress ?? '';
  headers['x-forwarded-host'] = request.get('host') ?? '';
  headers['x-forwarded-proto'] = request.protocol;
  headers['x-forwarded-prefix'] = `/t/${tenant.metadata.name}`;
  headers['x-request-id'] = request.id;
  headers['x-citadel-tenant-id'] = tenant.metadata.uid;
  if (principal) headers[PRINCIPAL_HEADER] = JSON.stringify(principal);
  return headers;
}

/** Who the gateway admitted, and to which tenant. */
interface Admission {
  tenant: TenantResource;
  /** Undefined on the open health paths. */
  principal: GatewayPrincipal | undefined;
}

function proxy(request: Request, response: Response, target: URL, admission: Admission): void {
  const { tenant, principal } = admission;
  const outgoing = http.request(
    target,
    { method: request.method, headers: forwardHeaders(request, tenant, principal) },
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
  const principal = OPEN_PATH.test(path) ? undefined : await authorize(deps, request, tenant, path);
  if (tenant.spec.suspended) {
    throw problem({
      status: 423,
      slug: 'tenant-suspended',
      title: 'Tenant suspended',
      detail: `Tenant "${slug}" is suspended.`,
    });
  }
  return { tenant, principal };
}

/**
 * `/t/{slug}/…` → the tenant's data-plane host, with the prefix removed. Unknown tenant
 * → 404, suspended → 423, host down → 503 with Retry-After.
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
