/**
 * STAND-IN for the platform's REST API, for the CLI's tests only.
 *
 * The real control plane is being built at the same time as the CLI; until an end-to-end
 * test runs the CLI against it, this small node:http server speaks the contract the CLI
 * codes against (DESIGN.md, "Platform-operator REST API"): bearer auth, RFC 7807
 * problems, 202 + tenant for lifecycle requests, cursor pagination. Its reconciler is a
 * script: every `GET /tenants/{slug}` moves a tenant one step further, so a `--wait`
 * sees several intermediate states.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  defaultTenantSpec,
  findTenantSlugProblem,
  PLAN_CATALOG,
  PROBLEM_CONTENT_TYPE,
  TENANT_API_VERSION,
  TENANT_CONDITION_TYPES,
  TENANT_KIND,
  TENANT_SLUG_PROBLEM_MESSAGES,
  type ProblemDetails,
  type TenantCondition,
  type TenantPhase,
} from '@citadel/contracts';
import type { TenantView } from '../src/platform-client.ts';

/** How a tenant's provisioning ends in this stand-in. */
export type StandInScenario = 'ready' | 'fail' | 'stall';

export interface StandInPlatformOptions {
  token: string;
  /** Per-slug scenario; tenants not listed become Ready. */
  scenarios?: Record<string, StandInScenario>;
  /** Answer every request with 503, as a platform whose database is down does. */
  unavailable?: boolean;
}

interface StandInTenant {
  view: TenantView;
  scenario: StandInScenario;
  /** Reconcile steps taken since the last spec change. */
  step: number;
  /** Polls left before a deleting tenant disappears. */
  deletePollsLeft: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

export interface StandInPlatform {
  url: string;
  requests: RecordedRequest[];
  /** Adds a tenant that is already Ready (for list and get tests). */
  seedReadyTenant(slug: string, plan?: string): void;
  close(): Promise<void>;
}

const PROVISIONED_CONDITIONS = TENANT_CONDITION_TYPES.filter((type) => type !== 'GpuPoolReady');
const NOW = '2026-11-24T12:00:00.000Z';

function problem(status: number, title: string, detail: string, extra = {}): ProblemDetails {
  return { type: `https://citadel.azora.dev/problems/${status}`, title, status, detail, ...extra };
}

class HttpProblem extends Error {
  readonly problem: ProblemDetails;
  constructor(details: ProblemDetails) {
    super(details.title);
    this.problem = details;
  }
}

/** Starts the stand-in on a free loopback port. */
export async function startStandInPlatform(
  options: StandInPlatformOptions,
): Promise<StandInPlatform> {
  const tenants = new Map<string, StandInTenant>();
  const requests: RecordedRequest[] = [];

  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
      body,
    });
    try {
      const result = route(request, body);
      send(response, result.status, result.body);
    } catch (error) {
      const details =
        error instanceof HttpProblem
          ? error.problem
          : problem(500, 'Internal error', error instanceof Error ? error.message : String(error));
      response.writeHead(details.status, { 'content-type': PROBLEM_CONTENT_TYPE });
      response.end(JSON.stringify(details));
    }
  }

  function route(request: IncomingMessage, body: string): { status: number; body: unknown } {
    guard(request);
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const method = request.method ?? 'GET';
    if (url.pathname === '/api/v1/tenants') {
      return method === 'POST'
        ? { status: 202, body: createTenant(request.headers['content-type'], body) }
        : { status: 200, body: listTenants(url) };
    }
    const match = /^\/api\/v1\/tenants\/([^/]+)(\/suspend|\/resume)?$/.exec(url.pathname);
    if (match === null)
      throw new HttpProblem(problem(404, 'Not found', `no route ${url.pathname}`));
    const slug = decodeURIComponent(match[1] ?? '');
    return { status: method === 'GET' ? 200 : 202, body: tenantAction(slug, method, match[2]) };
  }

  function guard(request: IncomingMessage): void {
    if (options.unavailable === true) {
      throw new HttpProblem(problem(503, 'Service unavailable', 'the database is not reachable'));
    }
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      throw new HttpProblem(
        problem(401, 'Unauthorized', 'a valid platform-operator token is required'),
      );
    }
  }

  function createTenant(contentType: string | undefined, body: string): TenantView {
    if (contentType !== 'application/json') {
      throw new HttpProblem(
        problem(415, 'Unsupported media type', 'send the body as application/json'),
      );
    }
    const input = JSON.parse(body) as { slug: string; displayName: string; plan: string };
    const slugProblem = findTenantSlugProblem(input.slug);
    const plan = PLAN_CATALOG.find((candidate) => candidate.id === input.plan);
    const errors = [
      ...(slugProblem === undefined
        ? []
        : [{ path: 'slug', message: TENANT_SLUG_PROBLEM_MESSAGES[slugProblem] }]),
      ...(plan === undefined ? [{ path: 'plan', message: `unknown plan "${input.plan}"` }] : []),
    ];
    if (errors.length > 0 || plan === undefined) {
      throw new HttpProblem(
        problem(400, 'Invalid request', 'the request body is invalid', { errors }),
      );
    }
    if (tenants.has(input.slug)) {
      throw new HttpProblem(problem(409, 'Conflict', `tenant "${input.slug}" already exists`));
    }
    const spec = defaultTenantSpec({
      slug: input.slug,
      displayName: input.displayName,
      plan,
      region: 'local',
    });
    const view: TenantView = {
      apiVersion: TENANT_API_VERSION,
      kind: TENANT_KIND,
      slug: input.slug,
      displayName: input.displayName,
      plan: plan.id,
      metadata: {
        name: input.slug,
        uid: `uid-${input.slug}`,
        generation: 1,
        creationTimestamp: NOW,
        deletionTimestamp: undefined,
        finalizers: ['citadel.azora.dev/tenant-resources'],
      },
      spec,
      status: { phase: 'Pending', observedGeneration: 0, conditions: [], endpoints: {} },
    };
    const tenant: StandInTenant = {
      view,
      scenario: options.scenarios?.[input.slug] ?? 'ready',
      step: 0,
      deletePollsLeft: 2,
    };
    tenants.set(input.slug, tenant);
    return structuredClone(view);
  }

  function listTenants(url: URL): { items: TenantView[]; nextCursor?: string } {
    const limit = Number(url.searchParams.get('limit') ?? '20');
    const cursor = url.searchParams.get('cursor');
    const after = cursor === null ? '' : Buffer.from(cursor, 'base64url').toString();
    const slugs = [...tenants.keys()].sort().filter((slug) => slug > after);
    const page = slugs.slice(0, limit);
    const items = page.map((slug) => structuredClone(requireTenant(slug).view));
    const last = page.at(-1);
    return slugs.length > limit && last !== undefined
      ? { items, nextCursor: Buffer.from(last).toString('base64url') }
      : { items };
  }

  function requireTenant(slug: string): StandInTenant {
    const tenant = tenants.get(slug);
    if (tenant === undefined) {
      throw new HttpProblem(problem(404, 'Tenant not found', `no tenant "${slug}"`));
    }
    return tenant;
  }

  function tenantAction(slug: string, method: string, action: string | undefined): TenantView {
    const tenant = requireTenant(slug);
    if (method === 'GET') {
      reconcileStep(tenant);
      // A deleting tenant that finished its polls is gone.
      if (!tenants.has(slug))
        throw new HttpProblem(problem(404, 'Tenant not found', `no tenant "${slug}"`));
    } else if (method === 'DELETE') {
      tenant.view.metadata.deletionTimestamp = NOW;
      tenant.view.status.phase = 'Deleting';
    } else {
      tenant.view.spec.suspended = action === '/suspend';
      tenant.view.metadata.generation += 1;
      tenant.step = 0;
    }
    return structuredClone(tenant.view);
  }

  function reconcileStep(tenant: StandInTenant): void {
    const { view } = tenant;
    if (view.metadata.deletionTimestamp !== undefined) {
      tenant.deletePollsLeft -= 1;
      if (tenant.deletePollsLeft <= 0) tenants.delete(view.slug);
      return;
    }
    if (tenant.scenario === 'stall') {
      view.status = {
        ...view.status,
        phase: 'Provisioning',
        observedGeneration: view.metadata.generation,
      };
      return;
    }
    tenant.step += 1;
    view.status = computeStatus(tenant);
  }

  function computeStatus(tenant: StandInTenant): TenantView['status'] {
    const { view, step } = tenant;
    const generation = view.metadata.generation;
    if (view.spec.suspended) {
      // One poll with the stale phase, then Suspended (the generation check matters here).
      return step < 2
        ? { ...view.status, observedGeneration: generation - 1 }
        : { ...view.status, phase: 'Suspended', observedGeneration: generation };
    }
    const failing = tenant.scenario === 'fail' && step >= 3;
    const conditions = TENANT_CONDITION_TYPES.map((type) =>
      conditionAt(type, step, failing, generation),
    );
    const ready = step > PROVISIONED_CONDITIONS.length;
    const phase: TenantPhase = failing ? 'Failed' : ready ? 'Ready' : 'Provisioning';
    const endpoints: Record<string, string> = ready
      ? {
          gateway: `http://localhost:8080/t/${view.slug}`,
          library: `http://localhost:8080/t/${view.slug}/library`,
        }
      : {};
    return { phase, observedGeneration: generation, conditions, endpoints };
  }

  function conditionAt(
    type: (typeof TENANT_CONDITION_TYPES)[number],
    step: number,
    failing: boolean,
    generation: number,
  ): TenantCondition {
    const base = { type, lastTransitionTime: NOW, observedGeneration: generation };
    if (type === 'GpuPoolReady') {
      return { ...base, status: 'False', reason: 'NoGpuOnHost', message: 'no GPU on this host' };
    }
    const index = PROVISIONED_CONDITIONS.indexOf(type);
    if (index < step - 1)
      return { ...base, status: 'True', reason: 'Provisioned', message: 'done' };
    if (failing && type === 'DatabaseReady') {
      return {
        ...base,
        status: 'False',
        reason: 'CreateFailed',
        message: 'role "t_x" could not be created',
      };
    }
    return { ...base, status: 'False', reason: 'Pending', message: 'not created yet' };
  }

  function seedReadyTenant(slug: string, plan = 'starter'): void {
    const definition = PLAN_CATALOG.find((candidate) => candidate.id === plan);
    if (definition === undefined) throw new Error(`unknown plan ${plan}`);
    createTenant(
      'application/json',
      JSON.stringify({ slug, displayName: slug.toUpperCase(), plan }),
    );
    const tenant = requireTenant(slug);
    tenant.step = PROVISIONED_CONDITIONS.length + 1;
    tenant.view.status = computeStatus(tenant);
  }

  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    seedReadyTenant,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
