import { Router, type Request, type Response } from 'express';
import type { TenantResource } from '@citadel/contracts';
import type { z } from 'zod';
import { auditActorOf } from '../access/api-access.ts';
import { AUDIT_ACTIONS, type AuditEvent } from '../audit/audit-entry.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { ApiKeyService } from '../domain/api-key.service.ts';
import type { TenantService } from '../domain/tenant.service.ts';
import {
  createApiKeyRequestSchema,
  listTenantsQuerySchema,
  slugParamSchema,
  createTenantRequestSchema,
} from './api-schemas.ts';
import { jsonBody } from './json-body.ts';
import { problem, validationProblem } from './problem.ts';
import { toApiKeyView, toTenantView } from './tenant-view.ts';

export interface TenantRoutesDeps {
  tenants: TenantService;
  apiKeys: ApiKeyService;
  /** Records each successful admin action in the tenant's audit log. */
  audit?: AuditRecorder | undefined;
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where);
  return result.data;
}

function slugOf(request: Request): string {
  return parse(slugParamSchema, { slug: request.params.slug }, 'path').slug;
}

/** An admin action by the operator or a console account, as the audit log records it. */
function adminAction(
  actor: AuditEvent['actor'],
  action: string,
  target: AuditEvent['target'],
  details: AuditEvent['details'] = {},
): AuditEvent {
  return {
    actor,
    action,
    target,
    outcome: 'success',
    details,
  };
}

/** The platform-operator tenant API under /api/v1. Each route parses, calls one use case, maps. */
export function createTenantRouter(deps: TenantRoutesDeps): Router {
  const router = Router();
  const { tenants, apiKeys } = deps;
  const audit = async (
    request: Request,
    response: Response,
    tenant: TenantResource,
    action: string,
  ) =>
    deps.audit?.record(
      tenant.metadata.uid,
      adminAction(
        auditActorOf(response, request.ip),
        action,
        { type: 'tenant', id: tenant.metadata.uid },
        {
          slug: tenant.metadata.name,
        },
      ),
    );

  router.post('/tenants', ...jsonBody(), async (request, response) => {
    const input = parse(createTenantRequestSchema, request.body, 'request body');
    const tenant = await tenants.create(input);
    await audit(request, response, tenant, AUDIT_ACTIONS.tenantCreated);
    response
      .status(202)
      .location(`/api/v1/tenants/${tenant.metadata.name}`)
      .json(toTenantView(tenant));
  });

  router.get('/tenants', async (request, response) => {
    const query = parse(listTenantsQuerySchema, request.query, 'query string');
    const page = await tenants.list(query.limit, query.cursor);
    response.json({
      items: page.items.map(toTenantView),
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    });
  });

  router.get('/tenants/:slug', async (request, response) => {
    response.json(toTenantView(await tenants.get(slugOf(request))));
  });

  router.post('/tenants/:slug/suspend', async (request, response) => {
    const tenant = await tenants.suspend(slugOf(request));
    await audit(request, response, tenant, AUDIT_ACTIONS.tenantSuspended);
    response.status(202).json(toTenantView(tenant));
  });

  router.post('/tenants/:slug/resume', async (request, response) => {
    const tenant = await tenants.resume(slugOf(request));
    await audit(request, response, tenant, AUDIT_ACTIONS.tenantResumed);
    response.status(202).json(toTenantView(tenant));
  });

  router.delete('/tenants/:slug', async (request, response) => {
    const tenant = await tenants.delete(slugOf(request));
    await audit(request, response, tenant, AUDIT_ACTIONS.tenantDeletionRequested);
    response.status(202).json(toTenantView(tenant));
  });

  router.post('/tenants/:slug/api-keys', ...jsonBody(), async (request, response) => {
    const slug = slugOf(request);
    const input = parse(createApiKeyRequestSchema, request.body, 'request body');
    const { record, key } = await apiKeys.issue(slug, input);
    await deps.audit?.record(
      record.tenantId,
      adminAction(
        auditActorOf(response, request.ip),
        AUDIT_ACTIONS.apiKeyIssued,
        { type: 'api-key', id: record.id },
        {
          slug,
          name: record.name,
          prefix: record.prefix,
          scopes: record.scopes,
        },
      ),
    );
    response.status(201).json({ ...toApiKeyView(record), key });
  });

  router.get('/tenants/:slug/api-keys', async (request, response) => {
    const keys = await apiKeys.list(slugOf(request));
    response.json({ items: keys.map(toApiKeyView) });
  });

  router.delete('/tenants/:slug/api-keys/:keyId', async (request, response) => {
    const slug = slugOf(request);
    const revoked = await apiKeys.revoke(slug, request.params.keyId);
    if (!revoked)
      throw problem({
        status: 404,
        slug: 'api-key-not-found',
        title: 'API key not found',
        detail: `No such API key for tenant "${slug}".`,
      });
    if (deps.audit) {
      const tenant = await tenants.get(slug);
      await deps.audit.record(
        tenant.metadata.uid,
        adminAction(auditActorOf(response, request.ip), AUDIT_ACTIONS.apiKeyRevoked, {
          type: 'api-key',
          id: request.params.keyId,
        }),
      );
    }
    response.status(204).end();
  });

  return router;
}
