import { Router, type Request } from 'express';
import { z } from 'zod';
import { slugParamSchema } from '../../http/api-schemas.ts';
import { jsonBody } from '../../http/json-body.ts';
import { validationProblem } from '../../http/problem.ts';
import type { SsoConnectionService } from '../domain/sso-connection.service.ts';
import { TENANT_ROLES } from '../domain/sso-identity-rules.ts';
import type { SsoConnectionRecord } from '../domain/sso-repository.ts';
import { mapSsoErrors } from './sso-problem.ts';

const roleSchema = z.enum(TENANT_ROLES);
const claimNameSchema = z.string().min(1).max(128);
/** An OAuth scope token (RFC 6749 §3.3). */
const scopeSchema = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'not a scope token');
const domainSchema = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'not a domain');

export const connectionInputSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63'),
  issuer: z.url({ protocol: /^https?$/ }).max(2_048),
  clientId: z.string().min(1).max(512),
  clientSecret: z.string().min(1).max(4_096),
  scopes: z
    .array(scopeSchema)
    .max(32)
    .default(['openid', 'email', 'profile'])
    // Without `openid` this would be plain OAuth: no ID token to validate.
    .transform((scopes) => (scopes.includes('openid') ? scopes : ['openid', ...scopes])),
  claims: z
    .strictObject({
      email: claimNameSchema.default('email'),
      name: claimNameSchema.default('name'),
      groups: claimNameSchema.default('groups'),
    })
    .prefault({}),
  groupRoles: z.record(z.string().min(1).max(512), roleSchema).default({}),
  defaultRole: roleSchema.optional(),
  allowedEmailDomains: z.array(domainSchema).max(100).default([]),
  enabled: z.boolean().default(true),
});

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where);
  return result.data;
}

function slugOf(request: Request): string {
  return parse(slugParamSchema, { slug: request.params.slug }, 'path').slug;
}

/** A connection as the API shows it: never the client secret, not even encrypted. */
export function toConnectionView(slug: string, connection: SsoConnectionRecord) {
  return {
    id: connection.id,
    name: connection.name,
    issuer: connection.issuer,
    clientId: connection.clientId,
    scopes: connection.scopes,
    claims: {
      email: connection.emailClaim,
      name: connection.nameClaim,
      groups: connection.groupsClaim,
    },
    groupRoles: connection.groupRoles,
    defaultRole: connection.defaultRole,
    allowedEmailDomains: connection.allowedEmailDomains,
    enabled: connection.enabled,
    loginUrl: `/sso/t/${slug}/login?connection=${connection.id}`,
    createdAt: connection.createdAt.toISOString(),
    updatedAt: connection.updatedAt.toISOString(),
  };
}

/**
 * SSO connections under /api/v1/tenants/:slug/sso-connections (operator access). Each route
 * parses, calls one use case, and maps the result.
 */
export function createSsoConnectionRouter(connections: SsoConnectionService): Router {
  const router = Router({ mergeParams: true });

  router.get('/', async (request, response) => {
    const slug = slugOf(request);
    const items = await connections.list(slug);
    response.json({ items: items.map((item) => toConnectionView(slug, item)) });
  });

  router.post('/', ...jsonBody(), async (request, response) => {
    const slug = slugOf(request);
    const input = parse(connectionInputSchema, request.body, 'request body');
    const created = await connections.create(slug, input, { type: 'operator', ip: request.ip });
    response
      .status(201)
      .location(`/api/v1/tenants/${slug}/sso-connections/${created.id}`)
      .json(toConnectionView(slug, created));
  });

  router.delete('/:connectionId', async (request, response) => {
    const actor = { type: 'operator' as const, ip: request.ip };
    await connections.delete(slugOf(request), request.params.connectionId, actor);
    response.status(204).end();
  });

  router.use(mapSsoErrors);
  return router;
}
