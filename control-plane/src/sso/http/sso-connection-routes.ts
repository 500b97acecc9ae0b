import { Router, type Request } from 'express';
import { z } from 'zod';
import { slugParamSchema } from '../../http/api-schemas.ts';
import { jsonBody } from '../../http/json-body.ts';
import { validationProblem } from '../../http/problem.ts';
import { connectionVersion } from '../domain/sso-connection-update.ts';
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

const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63');
const issuerSchema = z.url({ protocol: /^https?$/ }).max(2_048);
const clientIdSchema = z.string().min(1).max(512);
const clientSecretSchema = z.string().min(1).max(4_096);
const scopesSchema = z
  .array(scopeSchema)
  .max(32)
  // Without `openid` this would be plain OAuth: no ID token to validate.
  .transform((scopes) => (scopes.includes('openid') ? scopes : ['openid', ...scopes]));
const groupRolesSchema = z.record(z.string().min(1).max(512), roleSchema);
const domainsSchema = z.array(domainSchema).max(100);

export const connectionInputSchema = z.strictObject({
  name: nameSchema,
  issuer: issuerSchema,
  clientId: clientIdSchema,
  clientSecret: clientSecretSchema,
  scopes: scopesSchema.default(['openid', 'email', 'profile']),
  claims: z
    .strictObject({
      email: claimNameSchema.default('email'),
      name: claimNameSchema.default('name'),
      groups: claimNameSchema.default('groups'),
    })
    .prefault({}),
  groupRoles: groupRolesSchema.default({}),
  defaultRole: roleSchema.optional(),
  allowedEmailDomains: domainsSchema.default([]),
  enabled: z.boolean().default(true),
});

/**
 * A partial update (JSON merge patch, RFC 7396): absent fields stay; `claims` merges;
 * `groupRoles`, `scopes` and `allowedEmailDomains` are replaced whole; `defaultRole: null`
 * removes the default role; `clientSecret` rotates the secret.
 */
export const connectionPatchSchema = z
  .strictObject({
    name: nameSchema.optional(),
    issuer: issuerSchema.optional(),
    clientId: clientIdSchema.optional(),
    clientSecret: clientSecretSchema.optional(),
    scopes: scopesSchema.optional(),
    claims: z
      .strictObject({
        email: claimNameSchema.optional(),
        name: claimNameSchema.optional(),
        groups: claimNameSchema.optional(),
      })
      .optional(),
    groupRoles: groupRolesSchema.optional(),
    defaultRole: roleSchema.nullable().optional(),
    allowedEmailDomains: domainsSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'name at least one field to change');

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where);
  return result.data;
}

function slugOf(request: Request): string {
  return parse(slugParamSchema, { slug: request.params.slug }, 'path').slug;
}

/** The `:connectionId` parameter; an id that is no UUID simply names no connection (404). */
function connectionIdOf(request: Request): string {
  const { connectionId } = request.params;
  return typeof connectionId === 'string' ? connectionId : '';
}

/** The connection's version as a strong entity tag. */
function etagOf(connection: SsoConnectionRecord): string {
  return `"${connectionVersion(connection)}"`;
}

/**
 * The version `If-Match` names: undefined when absent or `*`. A list or a weak tag cannot
 * name a version, so it is passed on as given and fails the comparison (412).
 */
function ifMatchVersion(request: Request): string | undefined {
  const header = request.get('if-match')?.trim();
  if (header === undefined || header === '*') return undefined;
  return /^"([0-9a-z]+)"$/.exec(header)?.[1] ?? header;
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
 * parses, calls one use case, and maps the result. `GET /:id` and `PATCH /:id` answer with
 * an `ETag`; a `PATCH` with `If-Match` applies only to that version (else 412).
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

  router.get('/:connectionId', async (request, response) => {
    const slug = slugOf(request);
    const connection = await connections.get(slug, connectionIdOf(request));
    response.set('ETag', etagOf(connection)).json(toConnectionView(slug, connection));
  });

  router.patch('/:connectionId', ...jsonBody(), async (request, response) => {
    const slug = slugOf(request);
    const patch = parse(connectionPatchSchema, request.body, 'request body');
    const updated = await connections.update(slug, connectionIdOf(request), patch, {
      actor: { type: 'operator', ip: request.ip },
      ifVersion: ifMatchVersion(request),
    });
    response.set('ETag', etagOf(updated)).json(toConnectionView(slug, updated));
  });

  router.delete('/:connectionId', async (request, response) => {
    const actor = { type: 'operator' as const, ip: request.ip };
    await connections.delete(slugOf(request), connectionIdOf(request), actor);
    response.status(204).end();
  });

  router.use(mapSsoErrors);
  return router;
}
