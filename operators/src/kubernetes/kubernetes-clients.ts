import { ApiException, KubeConfig, Watch } from '@kubernetes/client-node';
import {
  createKubernetesRestClient,
  KubernetesApiError,
  type KubernetesRestClient,
} from './kubernetes-rest-client.ts';

/** The clients the operator talks to the API server with, all from one kubeconfig. */
export interface KubernetesClients {
  config: KubeConfig;
  /** JSON requests: reads, lists, server-side apply, patches, deletes. */
  rest: KubernetesRestClient;
  /** Watches (client-node's, which hands events over as plain JSON). */
  watch: Watch;
}

/**
 * The kubeconfig at `kubeconfigPath` (a `KUBECONFIG` file), or the pod's service account
 * when none is given (in-cluster: token, CA and `KUBERNETES_SERVICE_HOST`).
 */
export function loadKubeConfig(kubeconfigPath: string | undefined): KubeConfig {
  const config = new KubeConfig();
  if (kubeconfigPath === undefined) config.loadFromCluster();
  else config.loadFromFile(kubeconfigPath);
  return config;
}

/** A kubeconfig given as YAML text (tests, and a kubeconfig held in a Secret). */
export function kubeConfigFromString(kubeconfig: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return config;
}

export function createKubernetesClients(config: KubeConfig): KubernetesClients {
  return {
    config,
    rest: createKubernetesRestClient(config),
    watch: new Watch(config),
  };
}

/** The HTTP status of a failed API call (an `ApiException`, or a watch that did not start). */
export function kubernetesStatusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const code = error.statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return kubernetesStatusCode(error) === 404;
}

/** 409: a conflicting write (resourceVersion, field ownership) or a failed uid precondition. */
export function isConflict(error: unknown): boolean {
  return kubernetesStatusCode(error) === 409;
}

/** The message of a failed API call, from the Status the server answered when there is one. */
export function describeKubernetesError(error: unknown): string {
  if (error instanceof KubernetesApiError) return error.message;
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    const parsed = typeof body === 'string' ? safeParse(body) : body;
    const message =
      typeof parsed === 'object' && parsed !== null && 'message' in parsed
        ? String(parsed.message)
        : String(body);
    return `HTTP ${error.code}: ${message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
