/**
 * A small evaluator of Kubernetes NetworkPolicy semantics, for tests: decides whether one
 * connection is allowed by a set of policies, as a conforming CNI plugin would.
 * Supports matchLabels selectors, ipBlock (IPv4), numeric ports; anything else throws so
 * that a test never passes by accident.
 */
import type { INetworkPolicy, INetworkPolicyPeer } from '../src/index.ts';

export interface PodEndpoint {
  namespace: string;
  labels: Readonly<Record<string, string>>;
  ip: string;
}
/** Something outside the cluster: only an address. */
export interface ExternalEndpoint {
  ip: string;
}
export type Endpoint = PodEndpoint | ExternalEndpoint;

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

type LabelSelector = INetworkPolicyPeer['podSelector'];
type Direction = 'Ingress' | 'Egress';

function isPod(endpoint: Endpoint): endpoint is PodEndpoint {
  return 'namespace' in endpoint;
}

function selects(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  if (selector?.matchExpressions?.length) throw new Error('matchExpressions not supported');
  return Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

function ipv4(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !(part >= 0 && part <= 255))) {
    throw new Error(`not an IPv4 address: ${address}`);
  }
  return parts.reduce((value, part) => value * 256 + part, 0);
}

function inCidr(address: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(address) / size) === Math.floor(ipv4(base) / size);
}

function peerMatches(peer: INetworkPolicyPeer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) {
    const excepted = (peer.ipBlock.except ?? []).some((cidr) => inCidr(other.ip, cidr));
    return inCidr(other.ip, peer.ipBlock.cidr) && !excepted;
  }
  if (!isPod(other)) return false;
  const namespaceLabels = { 'kubernetes.io/metadata.name': other.namespace };
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaceLabels)
    : other.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector ? selects(peer.podSelector, other.labels) : true);
}

function portMatches(
  ports: Array<{ port?: number | string; protocol?: string }> | undefined,
  connection: Connection,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((entry) => {
    if (typeof entry.port === 'string') throw new Error('named ports not supported');
    const protocol = entry.protocol ?? 'TCP';
    return (
      protocol === (connection.protocol ?? 'TCP') &&
      (entry.port === undefined || entry.port === connection.port)
    );
  });
}

function ruleAllows(
  policy: INetworkPolicy,
  direction: Direction,
  other: Endpoint,
  connection: Connection,
): boolean {
  const namespace = policy.metadata?.namespace ?? '';
  const rules =
    direction === 'Ingress'
      ? (policy.spec?.ingress ?? []).map((rule) => ({ peers: rule.from, ports: rule.ports }))
      : (policy.spec?.egress ?? []).map((rule) => ({ peers: rule.to, ports: rule.ports }));
  return rules.some(
    (rule) =>
      (!rule.peers ||
        rule.peers.length === 0 ||
        rule.peers.some((peer) => peerMatches(peer, namespace, other))) &&
      portMatches(rule.ports, connection),
  );
}

/** Whether `pod`'s side lets the connection through in `direction`. */
function sideAllows(
  policies: readonly INetworkPolicy[],
  pod: PodEndpoint,
  direction: Direction,
  connection: Connection,
): boolean {
  const other = direction === 'Ingress' ? connection.from : connection.to;
  const isolating = policies.filter(
    (policy) =>
      policy.metadata?.namespace === pod.namespace &&
      selects(policy.spec?.podSelector, pod.labels) &&
      (policy.spec?.policyTypes ?? ['Ingress']).includes(direction),
  );
  if (isolating.length === 0) return true;
  return isolating.some((policy) => ruleAllows(policy, direction, other, connection));
}

/** Whether the policies allow the connection: egress from its source and ingress to its target. */
export function isConnectionAllowed(
  policies: readonly INetworkPolicy[],
  connection: Connection,
): boolean {
  const egress = isPod(connection.from)
    ? sideAllows(policies, connection.from, 'Egress', connection)
    : true;
  const ingress = isPod(connection.to)
    ? sideAllows(policies, connection.to, 'Ingress', connection)
    : true;
  return egress && ingress;
}
