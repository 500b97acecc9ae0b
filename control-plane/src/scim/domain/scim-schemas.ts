/** SCIM attribute data types (RFC 7643 §2.3). */
export type ScimAttributeType =
  'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';

/** One attribute of a SCIM schema, as published under /Schemas. */
export interface ScimAttribute {
  name: string;
  type: ScimAttributeType;
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: ScimAttribute[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

/** A SCIM schema (core or extension). */
export interface ScimSchema {
  id: string;
  name: string;
  description: string;
  attributes: ScimAttribute[];
}

/** A resource type with its core schema and extensions. */
export interface ScimResourceType {
  name: 'User' | 'Group';
  endpoint: '/Users' | '/Groups';
  description: string;
  schema: ScimSchema;
  extensions: ScimSchema[];
}

export const USER_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA_ID =
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA_ID = 'urn:ietf:params:scim:schemas:core:2.0:Group';

type AttributeOptions = Partial<Omit<ScimAttribute, 'name' | 'type'>>;

function attribute(name: string, type: ScimAttributeType, options: AttributeOptions = {}) {
  return {
    name,
    type,
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    description: name,
    ...options,
  } satisfies ScimAttribute;
}

function complex(name: string, subAttributes: ScimAttribute[], options: AttributeOptions = {}) {
  return attribute(name, 'complex', { ...options, subAttributes });
}

/** A multi-valued attribute with the usual value/display/type/primary sub-attributes. */
function multiValued(name: string, valueType: ScimAttributeType, types: string[]): ScimAttribute {
  return complex(
    name,
    [
      attribute('value', valueType),
      attribute('display', 'string'),
      attribute('type', 'string', { canonicalValues: types }),
      attribute('primary', 'boolean'),
    ],
    { multiValued: true },
  );
}

/** `id`, `externalId` and `meta`: common to every resource (RFC 7643 §3.1). */
export const COMMON_ATTRIBUTES: ScimAttribute[] = [
  attribute('id', 'string', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  attribute('externalId', 'string', { caseExact: true }),
  complex(
    'meta',
    [
      attribute('resourceType', 'string', { caseExact: true, mutability: 'readOnly' }),
      attribute('created', 'dateTime', { mutability: 'readOnly' }),
      attribute('lastModified', 'dateTime', { mutability: 'readOnly' }),
      attribute('location', 'reference', { caseExact: true, mutability: 'readOnly' }),
      attribute('version', 'string', { caseExact: true, mutability: 'readOnly' }),
    ],
    { mutability: 'readOnly' },
  ),
];

const USER_SCHEMA: ScimSchema = {
  id: USER_SCHEMA_ID,
  name: 'User',
  description: 'User Account',
  attributes: [
    attribute('userName', 'string', { required: true, uniqueness: 'server' }),
    complex('name', [
      attribute('formatted', 'string'),
      attribute('familyName', 'string'),
      attribute('givenName', 'string'),
      attribute('middleName', 'string'),
      attribute('honorificPrefix', 'string'),
      attribute('honorificSuffix', 'string'),
    ]),
    attribute('displayName', 'string'),
    attribute('nickName', 'string'),
    attribute('profileUrl', 'reference', { referenceTypes: ['external'] }),
    attribute('title', 'string'),
    attribute('userType', 'string'),
    attribute('preferredLanguage', 'string'),
    attribute('locale', 'string'),
    attribute('timezone', 'string'),
    attribute('active', 'boolean'),
    attribute('password', 'string', { mutability: 'writeOnly', returned: 'never' }),
    multiValued('emails', 'string', ['work', 'home', 'other']),
    multiValued('phoneNumbers', 'string', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multiValued('ims', 'string', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multiValued('photos', 'reference', ['photo', 'thumbnail']),
    complex(
      'addresses',
      [
        attribute('formatted', 'string'),
        attribute('streetAddress', 'string'),
        attribute('locality', 'string'),
        attribute('region', 'string'),
        attribute('postalCode', 'string'),
        attribute('country', 'string'),
        attribute('type', 'string', { canonicalValues: ['work', 'home', 'other'] }),
        attribute('primary', 'boolean'),
      ],
      { multiValued: true },
    ),
    complex(
      'groups',
      [
        attribute('value', 'string', { mutability: 'readOnly' }),
        attribute('$ref', 'reference', {
          mutability: 'readOnly',
          caseExact: true,
          referenceTypes: ['Group'],
        }),
        attribute('display', 'string', { mutability: 'readOnly' }),
        attribute('type', 'string', { mutability: 'readOnly' }),
      ],
      { multiValued: true, mutability: 'readOnly' },
    ),
    multiValued('entitlements', 'string', []),
    multiValued('roles', 'string', []),
    multiValued('x509Certificates', 'binary', []),
  ],
};

const ENTERPRISE_USER_SCHEMA: ScimSchema = {
  id: ENTERPRISE_USER_SCHEMA_ID,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attribute('employeeNumber', 'string'),
    attribute('costCenter', 'string'),
    attribute('organization', 'string'),
    attribute('division', 'string'),
    attribute('department', 'string'),
    complex('manager', [
      attribute('value', 'string'),
      attribute('$ref', 'reference', { caseExact: true, referenceTypes: ['User'] }),
      attribute('displayName', 'string', { mutability: 'readOnly' }),
    ]),
  ],
};

const GROUP_SCHEMA: ScimSchema = {
  id: GROUP_SCHEMA_ID,
  name: 'Group',
  description: 'Group',
  attributes: [
    attribute('displayName', 'string', { required: true, uniqueness: 'server' }),
    complex(
      'members',
      [
        attribute('value', 'string', { mutability: 'immutable', caseExact: true }),
        attribute('$ref', 'reference', {
          mutability: 'immutable',
          caseExact: true,
          referenceTypes: ['User', 'Group'],
        }),
        attribute('display', 'string', { mutability: 'readOnly' }),
        attribute('type', 'string', { mutability: 'immutable', canonicalValues: ['User'] }),
      ],
      { multiValued: true },
    ),
  ],
};

/** The User resource type (core User + EnterpriseUser extension). */
export const USER_RESOURCE_TYPE: ScimResourceType = {
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: USER_SCHEMA,
  extensions: [ENTERPRISE_USER_SCHEMA],
};

/** The Group resource type. */
export const GROUP_RESOURCE_TYPE: ScimResourceType = {
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: GROUP_SCHEMA,
  extensions: [],
};

/** Every schema this server publishes under /Schemas. */
export const SCIM_SCHEMAS: ScimSchema[] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA];

/** Every resource type this server serves. */
export const SCIM_RESOURCE_TYPES: ScimResourceType[] = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE];

/** The attribute named `name` (case-insensitively) among `attributes`. */
export function findAttribute(
  attributes: readonly ScimAttribute[],
  name: string,
): ScimAttribute | undefined {
  const key = name.toLowerCase();
  return attributes.find((candidate) => candidate.name.toLowerCase() === key);
}
