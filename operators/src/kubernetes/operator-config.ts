import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { NetworkDestination } from '@citadel/tenant-templates';
import { z } from 'zod';
import type { DatabaseAddress } from './drivers/kubernetes-database-driver.ts';
import type { PlatformMilvus } from './drivers/tenant-milvus-access.ts';
import type { LeaderElectionTimings } from './lease-leader-elector.ts';
import type { KubernetesTemplateParameters } from './tenant-object-renderer.ts';

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const milliseconds = (defaultValue: number) =>
  z.coerce.number().int().min(100).default(defaultValue);

const destinationSchema = z.union([
  z.strictObject({ cidr: z.string() }),
  z.strictObject({
    namespace: z.string(),
    podLabels: z.record(z.string(), z.string()).optional(),
  }),
]);

const platformEndpointSchema = z.strictObject({
  name: z.string(),
  port: z.number().int().min(1).max(65_535),
  destination: destinationSchema,
});

/** A JSON value in an environment variable, validated by `schema`. */
function json<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const environmentSchema = z.object({
  /** A kubeconfig file; unset: the pod's service account (in-cluster). */
  KUBECONFIG: optionalString,
  CITADEL_OPERATOR_NAMESPACE: optionalString,
  CITADEL_OPERATOR_IDENTITY: optionalString,
  CITADEL_OPERATOR_LEASE_NAME: z.string().default('citadel-operator'),
  CITADEL_LEASE_DURATION_MS: milliseconds(15_000),
  CITADEL_LEASE_RENEW_DEADLINE_MS: milliseconds(10_000),
  CITADEL_LEASE_RETRY_PERIOD_MS: milliseconds(2_000),
  CITADEL_RECONCILE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  CITADEL_RESYNC_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
  CITADEL_OPERATOR_HOST: z.string().default('0.0.0.0'),
  CITADEL_OPERATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(8081),
  DATABASE_URL: z.url({
    error: 'must be the platform PostgreSQL URL (a role with CREATEDB and CREATEROLE)',
  }),
  CITADEL_INSTANCE_ID: z.string().regex(/^[a-z0-9]{6}$/, 'six lower-case letters or digits'),
  CITADEL_DATA_DIR: z.string().default('/var/lib/citadel'),
  CITADEL_PUBLIC_URL: z.url().default('http://localhost:8080'),
  CITADEL_DATA_PLANE_IMAGE: z
    .string()
    .regex(/^[^:@\s]+(?::\d+)?[^:@\s]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'repository:tag, tag pinned'),
  CITADEL_GATEWAY_NAMESPACE: z.string().default('citadel-system'),
  CITADEL_PLATFORM_ENDPOINTS: json(z.array(platformEndpointSchema)).default([]),
  CITADEL_TENANT_DATABASE_HOST: optionalString,
  CITADEL_TENANT_DATABASE_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  CITADEL_TENANT_DATABASE_SSLMODE: z
    .enum(['disable', 'require', 'verify-ca', 'verify-full'])
    .default('verify-full'),
  CITADEL_TOKEN_ISSUER: optionalString,
  CITADEL_TOKEN_JWKS_URL: optionalString,
  CITADEL_MILVUS_ADDRESS: optionalString,
  CITADEL_MILVUS_TOKEN: optionalString,
  /** Where Milvus lives, as a NetworkPolicy peer; derived from the address when it can be. */
  CITADEL_MILVUS_DESTINATION: json(destinationSchema).optional(),
  CITADEL_PULUMI_BACKEND_URL: optionalString,
  /** The platform stack's outputs the tenant stacks need (`TenantPlatformReference`), as JSON. */
  CITADEL_PULUMI_PLATFORM: optionalString,
  CITADEL_AWS_REGION: optionalString,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export interface OperatorConfig {
  kubeconfigPath: string | undefined;
  /** The operator's namespace: its Lease and the tenants' key Secrets. */
  namespace: string;
  identity: string;
  leaseName: string;
  leaseTimings: LeaderElectionTimings;
  concurrency: number;
  resyncIntervalMs: number;
  http: { host: string; port: number };
  databaseUrl: string;
  instanceId: string;
  dataDir: string;
  publicUrl: string;
  templates: KubernetesTemplateParameters;
  tenantDatabase: DatabaseAddress;
  milvus: PlatformMilvus | undefined;
  pulumi: { backendUrl: string; platform: string; region: string | undefined } | undefined;
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
}

/** Thrown with every problem of the environment, each naming its variable. */
export class OperatorConfigError extends Error {
  constructor(problems: string[]) {
    super(
      `invalid operator configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`,
    );
    this.name = 'OperatorConfigError';
  }
}

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function splitImage(image: string) {
  const colon = image.lastIndexOf(':');
  return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
}

type Environment = z.infer<typeof environmentSchema>;

/** `<service>.<namespace>.svc`, then optionally the cluster domain: a Service in the cluster. */
const CLUSTER_SERVICE_HOST = /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.[a-z0-9.-]+)?\.?$/;

/** Where a host is as a NetworkPolicy peer: an IP address, or a Service's namespace. */
function destinationOfHost(host: string): NetworkDestination | undefined {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  const version = isIP(address);
  if (version !== 0) return { cidr: `${address}/${version === 4 ? 32 : 128}` };
  const namespace = CLUSTER_SERVICE_HOST.exec(host.toLowerCase())?.[1];
  return namespace === undefined ? undefined : { namespace };
}

/**
 * The platform's Milvus: its address as every client dials it (`host:port`, optionally
 * after `http://` or `https://`, as the Milvus SDK takes it), its token, and the egress a
 * milvus tenant's services get to it: the address's port, to `CITADEL_MILVUS_DESTINATION`,
 * or else to the address's IP or Service namespace. A host outside the cluster, known by
 * name, cannot be a NetworkPolicy peer: its destination must be given.
 */
function platformMilvus(env: Environment): PlatformMilvus | undefined {
  const address = env.CITADEL_MILVUS_ADDRESS;
  if (!address) return undefined;
  // A scheme with no default port: `URL` keeps whatever port the address names.
  const url = URL.parse(`tcp://${address.replace(/^https?:\/\//, '')}`);
  const port = url?.port ? Number(url.port) : 0;
  if (!url || port === 0) {
    throw new OperatorConfigError([
      'CITADEL_MILVUS_ADDRESS: must be host:port (the port opened to tenants that use Milvus)',
    ]);
  }
  const destination = env.CITADEL_MILVUS_DESTINATION ?? destinationOfHost(url.hostname);
  if (!destination) {
    throw new OperatorConfigError([
      `CITADEL_MILVUS_DESTINATION: required, as {"cidr": …}, where Milvus (${url.hostname}) ` +
        'is neither an IP address nor a cluster Service (<service>.<namespace>.svc)',
    ]);
  }
  return {
    address,
    token: env.CITADEL_MILVUS_TOKEN,
    egress: { port, destination },
  };
}

function integrations(env: Environment): Pick<OperatorConfig, 'milvus' | 'pulumi'> {
  return {
    milvus: platformMilvus(env),
    pulumi:
      env.CITADEL_PULUMI_BACKEND_URL && env.CITADEL_PULUMI_PLATFORM
        ? {
            backendUrl: env.CITADEL_PULUMI_BACKEND_URL,
            platform: env.CITADEL_PULUMI_PLATFORM,
            region: env.CITADEL_AWS_REGION,
          }
        : undefined,
  };
}

function templateParameters(env: Environment): KubernetesTemplateParameters {
  const tokenIssuer =
    env.CITADEL_TOKEN_ISSUER && env.CITADEL_TOKEN_JWKS_URL
      ? { tokenIssuer: { issuer: env.CITADEL_TOKEN_ISSUER, jwksUrl: env.CITADEL_TOKEN_JWKS_URL } }
      : {};
  return {
    image: splitImage(env.CITADEL_DATA_PLANE_IMAGE),
    gateway: { namespace: env.CITADEL_GATEWAY_NAMESPACE },
    platformEndpoints: env.CITADEL_PLATFORM_ENDPOINTS,
    ...tokenIssuer,
  };
}

/** The operator's configuration, read once at start from `environment`. */
export function readOperatorConfig(environment: NodeJS.ProcessEnv): OperatorConfig {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new OperatorConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const env = parsed.data;
  if (env.CITADEL_LEASE_RENEW_DEADLINE_MS >= env.CITADEL_LEASE_DURATION_MS) {
    throw new OperatorConfigError([
      'CITADEL_LEASE_RENEW_DEADLINE_MS: must be shorter than CITADEL_LEASE_DURATION_MS',
    ]);
  }
  const database = new URL(env.DATABASE_URL);
  return {
    kubeconfigPath: env.KUBECONFIG,
    namespace: env.CITADEL_OPERATOR_NAMESPACE ?? inClusterNamespace() ?? 'citadel-system',
    identity: env.CITADEL_OPERATOR_IDENTITY ?? `${hostname()}-${randomBytes(3).toString('hex')}`,
    leaseName: env.CITADEL_OPERATOR_LEASE_NAME,
    leaseTimings: {
      leaseDurationMs: env.CITADEL_LEASE_DURATION_MS,
      renewDeadlineMs: env.CITADEL_LEASE_RENEW_DEADLINE_MS,
      retryPeriodMs: env.CITADEL_LEASE_RETRY_PERIOD_MS,
    },
    concurrency: env.CITADEL_RECONCILE_CONCURRENCY,
    resyncIntervalMs: env.CITADEL_RESYNC_INTERVAL_MS,
    http: { host: env.CITADEL_OPERATOR_HOST, port: env.CITADEL_OPERATOR_PORT },
    databaseUrl: env.DATABASE_URL,
    instanceId: env.CITADEL_INSTANCE_ID,
    dataDir: path.resolve(env.CITADEL_DATA_DIR),
    publicUrl: env.CITADEL_PUBLIC_URL,
    templates: templateParameters(env),
    tenantDatabase: {
      host: env.CITADEL_TENANT_DATABASE_HOST ?? database.hostname,
      port: env.CITADEL_TENANT_DATABASE_PORT ?? Number(database.port || 5432),
      sslMode: env.CITADEL_TENANT_DATABASE_SSLMODE,
    },
    ...integrations(env),
    logLevel: env.LOG_LEVEL,
  };
}
