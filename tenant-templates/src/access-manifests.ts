import type { IRole, IRoleBinding, ISecret, IServiceAccount } from './kubernetes-types.ts';
import { namespacedMeta, type TemplateContext } from './template-context.ts';
import { TENANT_APP_NAME } from './tenant-labels.ts';
import type { DatabaseCredentials, TenantDataKeySet } from './tenant-template-input.ts';

/** The identity every data-plane pod of the tenant runs as. */
export const DATA_PLANE_SERVICE_ACCOUNT = 'data-plane';
/**
 * The Secret holding what the tenant's hosts need to reach their data: login, data keys and,
 * for a milvus tenant on a platform whose Milvus asks for one, the Milvus token.
 */
export const DATABASE_CREDENTIALS_SECRET = 'database-credentials';
/** The Secret key whose value is the whole connection URL the hosts read. */
export const DATABASE_URL_KEY = 'url';
/** The Secret key whose value is the tenant's data keys, see {@link tenantDataKeysValue}. */
export const DATA_KEYS_KEY = 'data-keys';
/** The Secret key whose value is the platform's Milvus token, for a milvus tenant only. */
export const MILVUS_TOKEN_KEY = 'milvus-token';

const ACCESS_APP = { name: TENANT_APP_NAME, component: 'access' };

/**
 * The data-plane identity. No token is mounted: the services do not call the Kubernetes
 * API today, and a pod that needs to must opt in with a projected token.
 */
export function dataPlaneServiceAccount(context: TemplateContext): IServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: namespacedMeta(context, DATA_PLANE_SERVICE_ACCOUNT, ACCESS_APP),
    automountServiceAccountToken: false,
  };
}

/** Least privilege: read the tenant's own access Secret, by name, and nothing else. */
export function dataPlaneRole(context: TemplateContext): IRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: namespacedMeta(context, DATA_PLANE_SERVICE_ACCOUNT, ACCESS_APP),
    rules: [
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: [DATABASE_CREDENTIALS_SECRET],
        verbs: ['get', 'watch'],
      },
    ],
  };
}

export function dataPlaneRoleBinding(context: TemplateContext): IRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: namespacedMeta(context, DATA_PLANE_SERVICE_ACCOUNT, ACCESS_APP),
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: DATA_PLANE_SERVICE_ACCOUNT,
    },
    subjects: [
      { kind: 'ServiceAccount', name: DATA_PLANE_SERVICE_ACCOUNT, namespace: context.namespace },
    ],
  };
}

/** `postgresql://user:password@host:port/database?sslmode=…`, every part escaped. */
export function databaseUrl(credentials: DatabaseCredentials): string {
  const user = encodeURIComponent(credentials.username);
  const password = encodeURIComponent(credentials.password);
  const database = encodeURIComponent(credentials.database);
  const sslMode = credentials.sslMode ?? 'verify-full';
  return `postgresql://${user}:${password}@${credentials.host}:${credentials.port}/${database}?sslmode=${sslMode}`;
}

/**
 * The tenant's data keys as its data-plane hosts read them (`CITADEL_TENANT_DATA_KEYS`,
 * `readTenantDataCipher` of the data-plane runtime): compact JSON naming the active version
 * and giving every version's key in base64, versions ascending, e.g.
 * `{"active":2,"keys":{"1":"<base64>","2":"<base64>"}}`. Deterministic, so that an
 * unchanged key set never looks like drift.
 */
export function tenantDataKeysValue(dataKeys: TenantDataKeySet): string {
  const keys: Record<string, string> = {};
  for (const { version, key } of [...dataKeys.keys].sort((a, b) => a.version - b.version)) {
    keys[String(version)] = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString(
      'base64',
    );
  }
  return JSON.stringify({ active: dataKeys.activeVersion, keys });
}

function base64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

/**
 * The tenant's access Secret: its database login, exactly as the database driver created
 * it, its data keys, exactly as the operator unwrapped them, and its Milvus token when it
 * is given one.
 */
export function databaseCredentialsSecret(context: TemplateContext): ISecret {
  const { databaseCredentials: credentials, dataKeys, milvus } = context.parameters;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: namespacedMeta(context, DATABASE_CREDENTIALS_SECRET, ACCESS_APP),
    type: 'Opaque',
    data: {
      host: base64(credentials.host),
      port: base64(String(credentials.port)),
      database: base64(credentials.database),
      username: base64(credentials.username),
      password: base64(credentials.password),
      [DATABASE_URL_KEY]: base64(databaseUrl(credentials)),
      [DATA_KEYS_KEY]: base64(tenantDataKeysValue(dataKeys)),
      ...(milvus?.token === undefined ? {} : { [MILVUS_TOKEN_KEY]: base64(milvus.token) }),
    },
  };
}
