import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A failed call: the HTTP status and the `Status` object the API server answered with. */
export class KubernetesApiError extends Error {
  readonly statusCode: number;
  readonly status: { reason?: string; message?: string; details?: unknown } | undefined;

  constructor(method: string, path: string, statusCode: number, body: string) {
    const status = parseStatus(body);
    super(`${method} ${path}: HTTP ${statusCode}: ${status?.message ?? body.slice(0, 500)}`);
    this.name = 'KubernetesApiError';
    this.statusCode = statusCode;
    this.status = status;
  }
}

function parseStatus(body: string): KubernetesApiError['status'] {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export interface RequestOptionsInput {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** For PATCH: `application/apply-patch+yaml`, `application/merge-patch+json`… */
  contentType?: string;
  /** `text`: the body as it came (`/metrics`); JSON otherwise. */
  responseType?: 'json' | 'text';
}

/**
 * Plain JSON over HTTP(S) to the API server, with the kubeconfig's credentials and TLS
 * settings (`KubeConfig.applyToHTTPSOptions`, so exec plugins and in-cluster tokens work)
 * on one keep-alive agent.
 *
 * Why not the typed client's models: `@kubernetes/client-node` 1.x maps JSON through its
 * generated models, which rename fields that are JavaScript keywords (`default` →
 * `_default` on a LimitRange, `from` → `_from` on a NetworkPolicy rule) and drop what they
 * do not know; an object applied through them silently loses those fields (a network
 * policy without `from` admits everyone). The operator's objects are JSON end to end.
 */
export interface KubernetesRestClient {
  request<T>(method: string, path: string, input?: RequestOptionsInput): Promise<T>;
}

export function createKubernetesRestClient(config: KubeConfig): KubernetesRestClient {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  const secure = server.protocol === 'https:';
  let agent: HttpsAgent | HttpAgent | undefined;

  const connectionOptions = async (): Promise<RequestOptions> => {
    const options: RequestOptions = { headers: {} };
    await config.applyToHTTPSOptions(options);
    agent ??= secure
      ? new HttpsAgent({
          keepAlive: true,
          ca: options.ca,
          cert: options.cert,
          key: options.key,
          ...(options.rejectUnauthorized === undefined
            ? {}
            : { rejectUnauthorized: options.rejectUnauthorized }),
          ...(options.servername === undefined ? {} : { servername: options.servername }),
        })
      : new HttpAgent({ keepAlive: true });
    return { ...options, agent };
  };

  return {
    async request<T>(method: string, path: string, input: RequestOptionsInput = {}): Promise<T> {
      const url = new URL(path, server);
      for (const [key, value] of Object.entries(input.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      const options = await connectionOptions();
      const body = input.body === undefined ? undefined : JSON.stringify(input.body);
      const headers: Record<string, string> = {
        ...(options.headers as Record<string, string>),
        accept: 'application/json',
        // Content-Length always: Node sends a DELETE's body with neither it nor chunked
        // encoding, and the server would read the body as the next request on the connection.
        ...(body === undefined
          ? {}
          : {
              'content-type': input.contentType ?? 'application/json',
              'content-length': String(Buffer.byteLength(body)),
            }),
      };
      const send = secure ? httpsRequest : httpRequest;
      const text = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const outgoing = send(url, { ...options, method, headers, timeout: 60_000 }, (response) => {
          let received = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (received += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: received }));
          response.on('error', reject);
        });
        outgoing.on('timeout', () =>
          outgoing.destroy(new Error(`${method} ${url.pathname} timed out`)),
        );
        outgoing.on('error', reject);
        outgoing.end(body);
      });
      if (text.status < 200 || text.status >= 300) {
        throw new KubernetesApiError(method, url.pathname, text.status, text.text);
      }
      if (input.responseType === 'text') return text.text as T;
      return (text.text === '' ? undefined : JSON.parse(text.text)) as T;
    },
  };
}

/** The resource (plural) of each kind the operator reads or writes. */
const PLURALS: Readonly<Record<string, string>> = {
  Namespace: 'namespaces',
  ResourceQuota: 'resourcequotas',
  LimitRange: 'limitranges',
  ServiceAccount: 'serviceaccounts',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  NetworkPolicy: 'networkpolicies',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Deployment: 'deployments',
  Service: 'services',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  PodDisruptionBudget: 'poddisruptionbudgets',
  Lease: 'leases',
  Tenant: 'tenants',
  CustomResourceDefinition: 'customresourcedefinitions',
};

const CLUSTER_SCOPED = new Set(['Namespace', 'Tenant', 'CustomResourceDefinition']);

/**
 * The API path of a kind's collection (`namespace` undefined: across all namespaces) or of
 * one object: `/api/v1/namespaces/tenant-acme/secrets/database-credentials`,
 * `/apis/apps/v1/deployments`, `/apis/citadel.azora.dev/v1alpha1/tenants/acme`.
 */
export function resourcePath(
  type: { apiVersion: string; kind: string },
  namespace?: string,
  name?: string,
): string {
  const plural = PLURALS[type.kind];
  if (plural === undefined) throw new Error(`no resource known for kind ${type.kind}`);
  const group = type.apiVersion.includes('/')
    ? `/apis/${type.apiVersion}`
    : `/api/${type.apiVersion}`;
  const scope =
    CLUSTER_SCOPED.has(type.kind) || namespace === undefined ? '' : `/namespaces/${namespace}`;
  return `${group}${scope}/${plural}${name === undefined ? '' : `/${name}`}`;
}
