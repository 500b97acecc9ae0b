import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import {
  changePasswordRequestSchema,
  confirmPasswordResetRequestSchema,
  emailRequestSchema,
  loginRequestSchema,
  sessionViewSchema,
  signUpRequestSchema,
  signUpResponseSchema,
  tokenRequestSchema,
} from '../accounts/account-schemas.ts';
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

/** The console's /auth routes: public (no bearer token); some need the session cookie. */
const consoleAuth = (operationId: string, summary: string) => ({
  operationId,
  summary,
  tags: ['console accounts'],
  security: [],
});
/** A mutation on the signed-in account: cookie `citadel_console` plus the CSRF header. */
const consoleMutation = {
  requestParams: { header: z.object({ 'x-csrf-token': z.string() }) },
  description:
    "Needs the `citadel_console` session cookie and its CSRF token in `x-csrf-token`; an `Origin` other than the platform's is refused.",
};
const noContent = (description: string) => ({ '204': { description } });
const accepted = {
  '202': { description: 'Accepted, whether or not the address has an account' },
};
const session = (description: string) => ({
  '200': { description, content: { 'application/json': { schema: sessionViewSchema } } },
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
  '/auth/signup': {
    post: {
      ...consoleAuth('signUp', 'Create an account, its organisation and first tenant'),
      requestBody: body(signUpRequestSchema),
      responses: {
        '201': {
          description: 'Created; a verification link is mailed',
          content: { 'application/json': { schema: signUpResponseSchema } },
        },
        ...problems(400, 403, 409, 413, 415, 429),
      },
    },
  },
  '/auth/verify-email': {
    post: {
      ...consoleAuth('verifyEmail', 'Confirm the e-mail address with the mailed token'),
      requestBody: body(tokenRequestSchema),
      responses: { '200': json('Verified'), ...problems(400, 429) },
    },
  },
  '/auth/verify-email/resend': {
    post: {
      ...consoleAuth('resendVerification', 'Mail a new verification link'),
      requestBody: body(emailRequestSchema),
      responses: { ...accepted, ...problems(400, 429) },
    },
  },
  '/auth/login': {
    post: {
      ...consoleAuth('logIn', 'Sign in; sets the session cookie'),
      requestBody: body(loginRequestSchema),
      responses: {
        ...session('Signed in; `Set-Cookie: citadel_console=…`'),
        ...problems(400, 401, 403, 429),
      },
    },
  },
  '/auth/session': {
    get: {
      ...consoleAuth('getSession', 'The signed-in account and its CSRF token'),
      responses: { ...session('The session'), ...problems(401) },
    },
  },
  '/auth/logout': {
    post: {
      ...consoleAuth('logOut', 'End this session'),
      ...consoleMutation,
      responses: { ...noContent('Signed out'), ...problems(401, 403) },
    },
  },
  '/auth/logout-everywhere': {
    post: {
      ...consoleAuth('logOutEverywhere', "End every one of the account's sessions"),
      ...consoleMutation,
      responses: { ...noContent('Signed out everywhere'), ...problems(401, 403) },
    },
  },
  '/auth/password': {
    post: {
      ...consoleAuth('changePassword', 'Change the password; other sessions end'),
      ...consoleMutation,
      requestBody: body(changePasswordRequestSchema),
      responses: { ...noContent('Changed'), ...problems(400, 401, 403, 429) },
    },
  },
  '/auth/password-reset': {
    post: {
      ...consoleAuth('requestPasswordReset', 'Mail a password-reset link'),
      requestBody: body(emailRequestSchema),
      responses: { ...accepted, ...problems(400, 429) },
    },
  },
  '/auth/password-reset/confirm': {
    post: {
      ...consoleAuth('confirmPasswordReset', 'Set a new password; every session ends'),
      requestBody: body(confirmPasswordResetRequestSchema),
      responses: { ...noContent('Password set'), ...problems(400, 429) },
    },
  },
};
