import express, {
  Router,
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { bearerToken } from '../../http/bearer-token.ts';
import type { JsonObject } from '../domain/scim-attribute-path.ts';
import {
  allResourceTypes,
  allSchemas,
  SCIM_MAX_BODY_BYTES,
  serviceProviderConfig,
} from '../domain/scim-discovery.ts';
import { badRequest, ScimError } from '../domain/scim-error.ts';
import { toGroupResource, type ScimGroupService } from '../domain/scim-group.service.ts';
import {
  LIST_RESPONSE_SCHEMA,
  parseListQuery,
  projectResource,
} from '../domain/scim-list-query.ts';
import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from '../domain/scim-schemas.ts';
import type { ScimTokenIdentity, ScimTokenService } from '../domain/scim-token.service.ts';
import {
  toUserResource,
  type ScimScope,
  type ScimUserService,
} from '../domain/scim-user.service.ts';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

export interface ScimRouterDeps {
  tokens: ScimTokenService;
  users: ScimUserService;
  groups: ScimGroupService;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own extension point
  namespace Express {
    interface Request {
      /** The tenant and token the SCIM bearer token selects (set by the SCIM auth middleware). */
      scimToken?: ScimTokenIdentity;
    }
  }
}

function send(response: Response, status: number, body: unknown): void {
  response.status(status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

function baseUrlOf(request: Request): string {
  return `${request.protocol}://${request.get('host') ?? 'localhost'}${request.baseUrl}`;
}

function scopeOf(request: Request): ScimScope {
  const identity = request.scimToken;
  if (identity === undefined) throw new ScimError(401, 'Authentication required.');
  return {
    tenantId: identity.tenantId,
    baseUrl: baseUrlOf(request),
    actor: { type: 'scim', id: identity.tokenId, ip: request.ip },
  };
}

/**
 * The version `If-Match` asks for: undefined when absent or `*`; a value no version has
 * (so the write fails with 412) when it names none this server issues.
 */
function expectedVersionOf(request: Request): number | undefined {
  const header = request.get('if-match');
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(header);
  return match?.[1] === undefined ? -1 : Number(match[1]);
}

function idOf(request: Request): string {
  return String(request.params.id);
}

function queryOf(request: Request): Record<string, unknown> {
  return request.query;
}

/** Writes one resource with its ETag and, on create, its Location. */
function sendResource(
  response: Response,
  resource: JsonObject,
  options: { status?: number; body?: JsonObject } = {},
): void {
  const { status = 200, body = resource } = options;
  const request = response.req;
  const meta = resource.meta as { version: string; location: string };
  response.setHeader('ETag', meta.version);
  if (status === 201) response.location(meta.location);
  if (status === 200 && request.method === 'GET' && request.get('if-none-match') === meta.version) {
    response.status(304).end();
    return;
  }
  send(response, status, body);
}

/** Accepts `application/scim+json` and `application/json` bodies; others are 415. */
function scimJsonBody(): RequestHandler[] {
  const types = ['application/scim+json', 'application/json'];
  const requireJson: RequestHandler = (request, _response, next) => {
    const hasBody =
      request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody && !request.is(types)) {
      next(new ScimError(415, 'Send the body as application/scim+json.'));
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit: SCIM_MAX_BODY_BYTES, strict: true, type: types })];
}

function authenticate(tokens: ScimTokenService): RequestHandler {
  return (request, _response, next) => {
    const presented = bearerToken(request);
    const denied = new ScimError(401, 'A valid SCIM bearer token is required.');
    if (presented === undefined) {
      next(denied);
      return;
    }
    tokens.authenticate(presented).then((identity) => {
      if (identity === undefined) {
        next(denied);
        return;
      }
      request.scimToken = identity;
      next();
    }, next);
  };
}

/** body-parser errors and everything else, as SCIM errors (RFC 7644 §3.12). */
function toScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  const type = typeof error === 'object' && error !== null && 'type' in error ? error.type : '';
  if (type === 'entity.parse.failed')
    return badRequest('invalidSyntax', 'The body is not valid JSON.');
  if (type === 'entity.too.large')
    return new ScimError(413, `The body exceeds ${SCIM_MAX_BODY_BYTES} bytes.`, 'tooLarge');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new ScimError(415, 'Send UTF-8 JSON.');
  return new ScimError(500, 'The server failed to handle the request.');
}

const scimErrorHandler: ErrorRequestHandler = (error: unknown, request, response, next) => {
  if (response.headersSent) {
    next(error);
    return;
  }
  const scimError = toScimError(error);
  if (scimError.status >= 500) request.log.error({ err: error }, 'SCIM request failed');
  if (scimError.status === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="scim"');
  send(response, scimError.status, scimError.toBody());
};

function discoveryRoutes(router: Router): void {
  router.get('/ServiceProviderConfig', (request, response) => {
    send(response, 200, serviceProviderConfig(baseUrlOf(request)));
  });
  const listOf = (resources: JsonObject[]) => ({
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  });
  const byId = (resources: JsonObject[], id: string, what: string) =>
    resources.find((resource) => resource.id === id) ??
    Promise.reject(new ScimError(404, `${what} ${id} not found.`));
  router.get('/ResourceTypes', (request, response) => {
    send(response, 200, listOf(allResourceTypes(baseUrlOf(request))));
  });
  router.get('/ResourceTypes/:id', async (request, response) => {
    send(
      response,
      200,
      await byId(allResourceTypes(baseUrlOf(request)), idOf(request), 'ResourceType'),
    );
  });
  router.get('/Schemas', (request, response) => {
    send(response, 200, listOf(allSchemas(baseUrlOf(request))));
  });
  router.get('/Schemas/:id', async (request, response) => {
    send(response, 200, await byId(allSchemas(baseUrlOf(request)), idOf(request), 'Schema'));
  });
}

function userRoutes(router: Router, users: ScimUserService): void {
  router.post('/Users', async (request, response) => {
    const scope = scopeOf(request);
    const record = await users.create(scope, request.body);
    sendResource(response, toUserResource(record, scope.baseUrl), { status: 201 });
  });
  router.get('/Users', async (request, response) => {
    send(response, 200, await users.list(scopeOf(request), parseListQuery(queryOf(request))));
  });
  router.get('/Users/:id', async (request, response) => {
    const scope = scopeOf(request);
    const query = parseListQuery(queryOf(request));
    const resource = toUserResource(await users.get(scope, idOf(request)), scope.baseUrl);
    const { attributes, excludedAttributes } = query;
    const body = projectResource(USER_RESOURCE_TYPE, resource, attributes, excludedAttributes);
    sendResource(response, resource, { body });
  });
  router.put('/Users/:id', async (request, response) => {
    const scope = scopeOf(request);
    const record = await users.replace(
      scope,
      idOf(request),
      request.body,
      expectedVersionOf(request),
    );
    sendResource(response, toUserResource(record, scope.baseUrl));
  });
  router.patch('/Users/:id', async (request, response) => {
    const scope = scopeOf(request);
    const record = await users.patch(
      scope,
      idOf(request),
      request.body,
      expectedVersionOf(request),
    );
    sendResource(response, toUserResource(record, scope.baseUrl));
  });
  router.delete('/Users/:id', async (request, response) => {
    await users.remove(scopeOf(request), idOf(request), expectedVersionOf(request));
    response.status(204).end();
  });
}

function groupRoutes(router: Router, groups: ScimGroupService): void {
  router.post('/Groups', async (request, response) => {
    const scope = scopeOf(request);
    const record = await groups.create(scope, request.body);
    sendResource(response, toGroupResource(record, scope.baseUrl), { status: 201 });
  });
  router.get('/Groups', async (request, response) => {
    send(response, 200, await groups.list(scopeOf(request), parseListQuery(queryOf(request))));
  });
  router.get('/Groups/:id', async (request, response) => {
    const scope = scopeOf(request);
    const query = parseListQuery(queryOf(request));
    const record = await groups.get(scope, idOf(request), groups.wantsMembers(query));
    const resource = toGroupResource(record, scope.baseUrl);
    const { attributes, excludedAttributes } = query;
    const body = projectResource(GROUP_RESOURCE_TYPE, resource, attributes, excludedAttributes);
    sendResource(response, resource, { body });
  });
  router.put('/Groups/:id', async (request, response) => {
    const scope = scopeOf(request);
    const record = await groups.replace(
      scope,
      idOf(request),
      request.body,
      expectedVersionOf(request),
    );
    sendResource(response, toGroupResource(record, scope.baseUrl));
  });
  router.patch('/Groups/:id', async (request, response) => {
    const scope = scopeOf(request);
    const record = await groups.patch(
      scope,
      idOf(request),
      request.body,
      expectedVersionOf(request),
    );
    sendResource(response, toGroupResource(record, scope.baseUrl));
  });
  router.delete('/Groups/:id', async (request, response) => {
    await groups.remove(scopeOf(request), idOf(request), expectedVersionOf(request));
    response.status(204).end();
  });
}

/**
 * The SCIM 2.0 service provider (RFC 7644) mounted at /scim/v2. Discovery endpoints carry
 * no tenant data and need no token; Users and Groups need the tenant's SCIM token.
 */
export function createScimRouter(deps: ScimRouterDeps): Router {
  const router = Router();
  router.use(...scimJsonBody());
  discoveryRoutes(router);
  router.use(authenticate(deps.tokens));
  userRoutes(router, deps.users);
  groupRoutes(router, deps.groups);
  router.use((request, _response, next) => {
    next(new ScimError(404, `No SCIM endpoint ${request.method} ${request.path}.`));
  });
  router.use(scimErrorHandler);
  return router;
}
