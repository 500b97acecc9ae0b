import type { JsonObject } from './scim-attribute-path.ts';
import { MAX_PAGE_SIZE } from './scim-list-query.ts';
import {
  SCIM_RESOURCE_TYPES,
  SCIM_SCHEMAS,
  type ScimResourceType,
  type ScimSchema,
} from './scim-schemas.ts';

/** The largest request body accepted, advertised as bulk/patch limits. */
export const SCIM_MAX_BODY_BYTES = 1_048_576;

/** The ServiceProviderConfig resource (RFC 7643 §5). */
export function serviceProviderConfig(baseUrl: string): JsonObject {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://citadel.azora.dev/docs/scim',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A SCIM token issued to the tenant by its admin.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

/** A ResourceType resource (RFC 7643 §6). */
export function resourceTypeResource(type: ScimResourceType, baseUrl: string): JsonObject {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: type.name,
    name: type.name,
    endpoint: type.endpoint,
    description: type.description,
    schema: type.schema.id,
    schemaExtensions: type.extensions.map((extension) => ({
      schema: extension.id,
      required: false,
    })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${type.name}` },
  };
}

/** A Schema resource (RFC 7643 §7). */
export function schemaResource(schema: ScimSchema, baseUrl: string): JsonObject {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export function allResourceTypes(baseUrl: string): JsonObject[] {
  return SCIM_RESOURCE_TYPES.map((type) => resourceTypeResource(type, baseUrl));
}

export function allSchemas(baseUrl: string): JsonObject[] {
  return SCIM_SCHEMAS.map((schema) => schemaResource(schema, baseUrl));
}
