import { createDocument } from 'zod-openapi';
import { z } from 'zod';
import { modulePaths } from './openapi-module-paths.ts';
import {
  apiKeySchema,
  createApiKeyRequestSchema,
  createdApiKeySchema,
  createTenantRequestSchema,
  listTenantsQuerySchema,
  problemSchema,
  slugParamSchema,
  tenantListSchema,
  tenantViewSchema,
} from './api-schemas.ts';

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: problemSchema } },
});

const errors = {
  '400': problemResponse('Invalid request'),
  '401': problemResponse('Missing or wrong bearer token'),
  '404': problemResponse('No such tenant'),
};

const tenantResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: tenantViewSchema } },
});

/** The OpenAPI 3.1 document of the platform-operator API, generated from the request schemas. */
export function createOpenApiDocument(version: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Citadel platform-operator API',
      version,
      description:
        'Tenants and their lifecycle. Errors are RFC 7807 problem details (application/problem+json).',
    },
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ adminToken: [] }],
    paths: {
      '/api/v1/tenants': {
        post: {
          operationId: 'createTenant',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: createTenantRequestSchema } },
          },
          responses: {
            '202': tenantResponse('Accepted; the tenant is being provisioned'),
            '400': errors['400'],
            '401': errors['401'],
            '409': problemResponse('The slug is taken'),
            '413': problemResponse('Body too large'),
            '415': problemResponse('Body is not JSON'),
          },
        },
        get: {
          operationId: 'listTenants',
          requestParams: { query: listTenantsQuerySchema },
          responses: {
            '200': {
              description: 'A page of tenants',
              content: { 'application/json': { schema: tenantListSchema } },
            },
            '400': errors['400'],
            '401': errors['401'],
          },
        },
      },
      '/api/v1/tenants/{slug}': {
        get: {
          operationId: 'getTenant',
          requestParams: { path: slugParamSchema },
          responses: { '200': tenantResponse('The tenant'), ...errors },
        },
        delete: {
          operationId: 'deleteTenant',
          requestParams: { path: slugParamSchema },
          responses: { '202': tenantResponse('Deletion started'), ...errors },
        },
      },
      '/api/v1/tenants/{slug}/suspend': {
        post: {
          operationId: 'suspendTenant',
          requestParams: { path: slugParamSchema },
          responses: {
            '202': tenantResponse('Suspending'),
            ...errors,
            '409': problemResponse('Being deleted'),
          },
        },
      },
      '/api/v1/tenants/{slug}/resume': {
        post: {
          operationId: 'resumeTenant',
          requestParams: { path: slugParamSchema },
          responses: {
            '202': tenantResponse('Resuming'),
            ...errors,
            '409': problemResponse('Being deleted'),
          },
        },
      },
      '/api/v1/tenants/{slug}/api-keys': {
        post: {
          operationId: 'createApiKey',
          requestParams: { path: slugParamSchema },
          requestBody: {
            required: true,
            content: { 'application/json': { schema: createApiKeyRequestSchema } },
          },
          responses: {
            '201': {
              description: 'The key, shown once',
              content: { 'application/json': { schema: createdApiKeySchema } },
            },
            ...errors,
          },
        },
        get: {
          operationId: 'listApiKeys',
          requestParams: { path: slugParamSchema },
          responses: {
            '200': {
              description: 'The tenant API keys (without secrets)',
              content: {
                'application/json': { schema: z.object({ items: apiKeySchema.array() }) },
              },
            },
            ...errors,
          },
        },
      },
      ...modulePaths,
    },
  });
}
