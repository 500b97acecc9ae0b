import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { auditListQuerySchema } from '../audit/audit-schemas.ts';
import { evaluateRequestSchema, policyInputSchema } from '../policies/policy-routes.ts';
import { createScimTokenRequestSchema } from '../scim/http/scim-token-routes.ts';
import { connectionInputSchema, connectionPatchSchema } from '../sso/http/sso-connection-routes.ts';
import { problemSchema, slugParamSchema } from './api-schemas.ts';

const idParam = (name: string) =>
  z.strictObject({ slug: slugParamSchema.shape.slug, [name]: z.uuid() });

const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: `Problem (${String(status)})`,
        content: { 'application/problem+json': { schema: problemSchema } },
      },
    ]),
  );

const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: z.looseObject({}) } },
});

const body = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/**
 * The operator routes of the platform's modules (SCIM tokens, SSO connections, policies,
 * audit), documented from the same zod schemas their routers validate with.
 */
export const modulePaths: ZodOpenApiPathsObject = {
  '/api/v1/tenants/{slug}/scim-tokens': {
    post: {
      operationId: 'createScimToken',
      requestParams: { path: slugParamSchema },
      requestBody: body(createScimTokenRequestSchema),
      responses: { '201': json('The token, shown once'), ...problems(400, 401, 404) },
    },
    get: {
      operationId: 'listScimTokens',
      requestParams: { path: slugParamSchema },
      responses: { '200': json('Tokens, without secrets'), ...problems(401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/scim-tokens/{tokenId}': {
    delete: {
      operationId: 'revokeScimToken',
      requestParams: { path: idParam('tokenId') },
      responses: { '204': { description: 'Revoked' }, ...problems(401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/sso-connections': {
    post: {
      operationId: 'createSsoConnection',
      requestParams: { path: slugParamSchema },
      requestBody: body(connectionInputSchema),
      responses: {
        '201': json('The connection and its login URL'),
        ...problems(400, 401, 404, 409),
      },
    },
    get: {
      operationId: 'listSsoConnections',
      requestParams: { path: slugParamSchema },
      responses: { '200': json('Connections, without secrets'), ...problems(401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/sso-connections/{connectionId}': {
    get: {
      operationId: 'getSsoConnection',
      requestParams: { path: idParam('connectionId') },
      responses: { '200': json('The connection (ETag: its version)'), ...problems(401, 404) },
    },
    patch: {
      operationId: 'updateSsoConnection',
      description:
        'Changes some fields (merge patch) or rotates the client secret. A changed issuer is ' +
        'discovered again; disabling revokes the sessions the connection created. `If-Match` ' +
        'applies the change only to that version.',
      requestParams: {
        path: idParam('connectionId'),
        header: z.strictObject({ 'if-match': z.string().optional() }),
      },
      requestBody: body(connectionPatchSchema),
      responses: {
        '200': json('The updated connection (ETag: its new version)'),
        ...problems(400, 401, 404, 409, 412),
      },
    },
    delete: {
      operationId: 'deleteSsoConnection',
      requestParams: { path: idParam('connectionId') },
      responses: { '204': { description: 'Deleted' }, ...problems(401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/policies': {
    post: {
      operationId: 'createPolicy',
      requestParams: { path: slugParamSchema },
      requestBody: body(policyInputSchema),
      responses: { '201': json('The policy'), ...problems(400, 401, 404, 409) },
    },
    get: {
      operationId: 'listPolicies',
      requestParams: { path: slugParamSchema },
      responses: { '200': json('The tenant policies'), ...problems(401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/policies/{policyId}': {
    get: {
      operationId: 'getPolicy',
      requestParams: { path: idParam('policyId') },
      responses: { '200': json('The policy'), ...problems(401, 404) },
    },
    put: {
      operationId: 'replacePolicy',
      requestParams: { path: idParam('policyId') },
      requestBody: body(policyInputSchema),
      responses: { '200': json('The policy'), ...problems(400, 401, 404, 409) },
    },
    delete: {
      operationId: 'deletePolicy',
      requestParams: { path: idParam('policyId') },
      responses: { '204': { description: 'Deleted' }, ...problems(401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/policies/evaluate': {
    post: {
      operationId: 'evaluatePolicies',
      requestParams: { path: slugParamSchema },
      requestBody: body(evaluateRequestSchema),
      responses: { '200': json('The decision'), ...problems(400, 401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/audit': {
    get: {
      operationId: 'listAuditEntries',
      requestParams: { path: slugParamSchema, query: auditListQuerySchema },
      responses: { '200': json('Entries, newest first'), ...problems(400, 401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/audit/export': {
    get: {
      operationId: 'exportAuditLog',
      requestParams: { path: slugParamSchema },
      responses: {
        '200': {
          description: 'Every entry as JSON lines, oldest first',
          content: { 'application/x-ndjson': { schema: z.string() } },
        },
        ...problems(401, 404),
      },
    },
  },
  '/api/v1/tenants/{slug}/audit/verify': {
    post: {
      operationId: 'verifyAuditLog',
      requestParams: { path: slugParamSchema },
      responses: { '200': json('The verification report'), ...problems(401, 404) },
    },
  },
  '/api/v1/tenants/{slug}/audit/checkpoints': {
    post: {
      operationId: 'createAuditCheckpoint',
      requestParams: { path: slugParamSchema },
      responses: { '201': json('The signed checkpoint'), ...problems(401, 404, 409) },
    },
  },
};
