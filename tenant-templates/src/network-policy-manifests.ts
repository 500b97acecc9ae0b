import type { INetworkPolicy, INetworkPolicyPeer } from './kubernetes-types.ts';
import {
  namespacedMeta,
  SERVICE_CONTAINER_PORT,
  SERVICE_GRPC_PORT,
  type TemplateContext,
} from './template-context.ts';
import { DATA_PLANE_COMPONENT, TENANT_APP_NAME } from './tenant-labels.ts';
import type { NetworkDestination } from './tenant-template-input.ts';

const POLICY_APP = { name: TENANT_APP_NAME, component: 'network-policy' };

/** Labels Kubernetes itself puts on every namespace (1.22+): a selector nobody can forge. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

const DEFAULT_DNS = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };

/** Selects the data-plane service pods of the tenant (its namespace holds nothing else). */
export const DATA_PLANE_POD_SELECTOR = {
  matchLabels: { 'app.kubernetes.io/component': DATA_PLANE_COMPONENT },
};

function namespacePeer(
  namespace: string,
  podLabels: Readonly<Record<string, string>> | undefined,
): INetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
    ...(podLabels === undefined ? {} : { podSelector: { matchLabels: { ...podLabels } } }),
  };
}

function destinationPeer(destination: NetworkDestination): INetworkPolicyPeer {
  return 'cidr' in destination
    ? { ipBlock: { cidr: destination.cidr } }
    : namespacePeer(destination.namespace, destination.podLabels);
}

function policy(
  context: TemplateContext,
  name: string,
  spec: NonNullable<INetworkPolicy['spec']>,
): INetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: namespacedMeta(context, name, POLICY_APP),
    spec,
  };
}

/** Selects every pod and allows nothing: whatever else is allowed is allowed by name below. */
export function defaultDenyPolicy(context: TemplateContext): INetworkPolicy {
  return policy(context, 'default-deny', {
    podSelector: {},
    policyTypes: ['Ingress', 'Egress'],
  });
}

/** The platform gateway may reach the services' HTTP port; nothing else may come in. */
export function gatewayIngressPolicy(context: TemplateContext): INetworkPolicy {
  const { gateway } = context.parameters;
  return policy(context, 'allow-gateway-ingress', {
    podSelector: DATA_PLANE_POD_SELECTOR,
    policyTypes: ['Ingress'],
    ingress: [
      {
        from: [namespacePeer(gateway.namespace, gateway.podLabels)],
        ports: [{ protocol: 'TCP', port: SERVICE_CONTAINER_PORT }],
      },
    ],
  });
}

/**
 * The tenant's services may call one another (the orchestrator calls the library), over
 * HTTP and gRPC. A pod selector without a namespace selector means this namespace only:
 * the gRPC port is open to the tenant's own services and nobody else, the gateway included.
 */
export function intraTenantPolicy(context: TemplateContext): INetworkPolicy {
  const peer = { podSelector: DATA_PLANE_POD_SELECTOR };
  const ports = [
    { protocol: 'TCP' as const, port: SERVICE_CONTAINER_PORT },
    { protocol: 'TCP' as const, port: SERVICE_GRPC_PORT },
  ];
  return policy(context, 'allow-intra-tenant', {
    podSelector: DATA_PLANE_POD_SELECTOR,
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [peer], ports }],
    egress: [{ to: [peer], ports }],
  });
}

/** Every pod may resolve names through the cluster DNS, and reach nothing else by it. */
export function dnsEgressPolicy(context: TemplateContext): INetworkPolicy {
  const dns = context.parameters.dns ?? DEFAULT_DNS;
  return policy(context, 'allow-dns-egress', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [
      {
        to: [namespacePeer(dns.namespace, dns.podLabels)],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  });
}

/**
 * The services may reach the platform endpoints they are given (database, vector store,
 * token keys), each on its own port, and a milvus tenant's services its Milvus; undefined
 * when there is none of these.
 */
export function platformEgressPolicy(context: TemplateContext): INetworkPolicy | undefined {
  const { platformEndpoints, milvus } = context.parameters;
  const endpoints = [...platformEndpoints, ...(milvus ? [milvus.egress] : [])];
  if (endpoints.length === 0) return undefined;
  return policy(context, 'allow-platform-egress', {
    podSelector: DATA_PLANE_POD_SELECTOR,
    policyTypes: ['Egress'],
    egress: endpoints.map((endpoint) => ({
      to: [destinationPeer(endpoint.destination)],
      ports: [{ protocol: 'TCP', port: endpoint.port }],
    })),
  });
}

/** The tenant's network policies, default-deny first. */
export function tenantNetworkPolicies(context: TemplateContext): INetworkPolicy[] {
  const platform = platformEgressPolicy(context);
  return [
    defaultDenyPolicy(context),
    dnsEgressPolicy(context),
    gatewayIngressPolicy(context),
    intraTenantPolicy(context),
    ...(platform ? [platform] : []),
  ];
}
