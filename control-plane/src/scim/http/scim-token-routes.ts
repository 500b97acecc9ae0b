import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuditActor } from '../../audit/audit-entry.ts';
import { slugParamSchema } from '../../http/api-schemas.ts';
import { jsonBody } from '../../http/json-body.ts';
import { problem, validationProblem } from '../../http/problem.ts';
import type { ScimTokenRecord, ScimTokenService } from '../domain/scim-token.service.ts';

/** `POST /tenants/{slug}/scim-tokens` body. */
export const createScimTokenRequestSchema = z
  .strictObject({ name: z.string().trim().min(1).max(200).optional() })
  .meta({ id: 'CreateScimTokenRequest' });

function slugOf(request: Request): string {
  const result = slugParamSchema.safeParse({ slug: request.params.slug });
  if (!result.success) throw validationProblem(result.error, 'path');
  return result.data.slug;
}

/** The platform operator, as the audit log records them. */
function operatorOf(request: Request): AuditActor {
  return { type: 'operator', ip: request.ip };
}

/** A token as the API shows it: never the secret, only its prefix. */
export function toScimTokenView(record: ScimTokenRecord) {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    createdAt: record.createdAt.toISOString(),
    ...(record.lastUsedAt === undefined ? {} : { lastUsedAt: record.lastUsedAt.toISOString() }),
    ...(record.revokedAt === undefined ? {} : { revokedAt: record.revokedAt.toISOString() }),
  };
}

/** Operator routes under /api/v1/tenants/:slug/scim-tokens; errors are RFC 7807. */
export function createScimTokenRouter(tokens: ScimTokenService): Router {
  const router = Router({ mergeParams: true });

  router.post('/', ...jsonBody(), async (request, response) => {
    const slug = slugOf(request);
    const parsed = createScimTokenRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw validationProblem(parsed.error, 'request body');
    const { record, token } = await tokens.issue(slug, parsed.data, operatorOf(request));
    response.status(201).json({ ...toScimTokenView(record), token });
  });

  router.get('/', async (request, response) => {
    const items = await tokens.list(slugOf(request));
    response.json({ items: items.map(toScimTokenView) });
  });

  router.delete('/:tokenId', async (request, response) => {
    const slug = slugOf(request);
    if (!(await tokens.revoke(slug, request.params.tokenId, operatorOf(request))))
      throw problem({
        status: 404,
        slug: 'scim-token-not-found',
        title: 'SCIM token not found',
        detail: `No such SCIM token for tenant "${slug}".`,
      });
    response.status(204).end();
  });

  return router;
}
