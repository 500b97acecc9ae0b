import { describe, expect, it } from 'vitest';
import { renderTenantManifests, type INetworkPolicy, type TenantManifest } from '../src/index.ts';
import {
  isConnectionAllowed,
  type Connection,
  type PodEndpoint,
} from './network-policy-evaluator.ts';
import { GATEWAY_NAMESPACE, templateInput } from './tenant-template-fixtures.ts';

function policiesOf(manifests: TenantManifest[]): INetworkPolicy[] {
  return manifests.filter(
    (manifest): manifest is INetworkPolicy => manifest.kind === 'NetworkPolicy',
  );
}

const policies = policiesOf(renderTenantManifests(templateInput('business')));

function servicePod(service: string, namespace = 'tenant-acme'): PodEndpoint {
  return {
    namespace,
    ip: '10.1.0.10',
    labels: {
      'app.kubernetes.io/name': service,
      'app.kubernetes.io/component': 'data-plane-service',
      'citadel.azora.dev/tenant': 'acme',
    },
  };
}

const library = servicePod('library');
const orchestrator = servicePod('orchestrator');
const gateway: PodEndpoint = {
  namespace: GATEWAY_NAMESPACE,
  ip: '10.1.0.2',
  labels: { 'app.kubernetes.io/name': 'gateway' },
};
const kubeDns: PodEndpoint = {
  namespace: 'kube-system',
  ip: '10.1.0.3',
  labels: { 'k8s-app': 'kube-dns' },
};
/** A pod someone started by hand in the tenant namespace: not a data-plane service. */
const strayPod: PodEndpoint = {
  namespace: 'tenant-acme',
  ip: '10.1.0.11',
  labels: { run: 'debug' },
};
const otherTenant = servicePod('library', 'tenant-globex');
const milvus: PodEndpoint = {
  namespace: 'milvus',
  ip: '10.1.0.4',
  labels: { 'app.kubernetes.io/name': 'milvus' },
};

function allowed(connection: Connection): boolean {
  return isConnectionAllowed(policies, connection);
}

describe('the tenant network policies', () => {
  it('start from a policy that selects every pod and allows nothing, either way', () => {
    const defaultDeny = policies.slice(0, 1);
    expect(defaultDeny[0]?.metadata?.name).toBe('default-deny');
    expect(defaultDeny[0]?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(
      isConnectionAllowed(defaultDeny, {
        from: gateway,
        to: library,
        port: 8080,
      }),
    ).toBe(false);
    expect(
      isConnectionAllowed(defaultDeny, {
        from: library,
        to: kubeDns,
        port: 53,
        protocol: 'UDP',
      }),
    ).toBe(false);
  });

  it('let the gateway reach the services’ HTTP port, and nothing else', () => {
    expect(allowed({ from: gateway, to: library, port: 8080 })).toBe(true);
    expect(allowed({ from: gateway, to: library, port: 9090 })).toBe(false);
    expect(allowed({ from: gateway, to: strayPod, port: 8080 })).toBe(false);
  });

  it('keep other namespaces, other tenants and the outside world out', () => {
    const impostor = { ...gateway, namespace: 'default' };
    const otherPodInGatewayNamespace = { ...gateway, labels: { app: 'something-else' } };
    expect(allowed({ from: impostor, to: library, port: 8080 })).toBe(false);
    expect(allowed({ from: otherPodInGatewayNamespace, to: library, port: 8080 })).toBe(false);
    expect(allowed({ from: otherTenant, to: library, port: 8080 })).toBe(false);
    expect(allowed({ from: { ip: '203.0.113.7' }, to: library, port: 8080 })).toBe(false);
  });

  it('let the services call one another on their HTTP port', () => {
    expect(allowed({ from: orchestrator, to: library, port: 8080 })).toBe(true);
    expect(allowed({ from: orchestrator, to: library, port: 22 })).toBe(false);
    expect(allowed({ from: strayPod, to: library, port: 8080 })).toBe(false);
  });

  it('open the services’ gRPC port to the tenant’s own services only', () => {
    expect(allowed({ from: orchestrator, to: library, port: 50_051 })).toBe(true);
    expect(allowed({ from: gateway, to: library, port: 50_051 })).toBe(false);
    expect(allowed({ from: otherTenant, to: library, port: 50_051 })).toBe(false);
    expect(allowed({ from: library, to: otherTenant, port: 50_051 })).toBe(false);
    expect(allowed({ from: strayPod, to: library, port: 50_051 })).toBe(false);
    expect(allowed({ from: { ip: '203.0.113.7' }, to: library, port: 50_051 })).toBe(false);
  });

  it('let every pod resolve names, through the cluster DNS only', () => {
    expect(allowed({ from: library, to: kubeDns, port: 53, protocol: 'UDP' })).toBe(true);
    expect(allowed({ from: strayPod, to: kubeDns, port: 53, protocol: 'TCP' })).toBe(true);
    expect(allowed({ from: library, to: { ip: '8.8.8.8' }, port: 53, protocol: 'UDP' })).toBe(
      false,
    );
  });

  it('let the services reach the platform endpoints on their ports, and no further', () => {
    expect(allowed({ from: library, to: { ip: '10.20.0.5' }, port: 5432 })).toBe(true);
    expect(allowed({ from: library, to: { ip: '10.20.0.5' }, port: 22 })).toBe(false);
    expect(allowed({ from: library, to: { ip: '10.21.0.5' }, port: 5432 })).toBe(false);
    expect(allowed({ from: library, to: milvus, port: 19530 })).toBe(true);
    expect(allowed({ from: strayPod, to: { ip: '10.20.0.5' }, port: 5432 })).toBe(false);
  });

  it('deny egress to the internet and to other tenants', () => {
    expect(allowed({ from: library, to: { ip: '203.0.113.7' }, port: 443 })).toBe(false);
    expect(allowed({ from: library, to: otherTenant, port: 8080 })).toBe(false);
  });

  it('render no platform egress policy when there is no platform endpoint', () => {
    const manifests = renderTenantManifests(
      templateInput('starter', { parameters: { platformEndpoints: [] } }),
    );
    const names = policiesOf(manifests).map((policy) => policy.metadata?.name);
    expect(names).toEqual([
      'default-deny',
      'allow-dns-egress',
      'allow-gateway-ingress',
      'allow-intra-tenant',
    ]);
  });
});
