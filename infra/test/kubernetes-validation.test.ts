import { describe, expect, it } from 'vitest';
import { kubernetesTypeToken } from '../src/kubernetes-object.ts';
import { PLATFORM_CONFIG_DEFAULTS } from '../src/platform-config.ts';
import { readTenantCrd } from '../src/tenant-crd.ts';
import {
  CONTROL_PLANE_CONTAINER,
  CONTROL_PLANE_RULES,
  clusterRoleManifest,
  controlPlaneEndpoint,
  deploymentManifest,
  ingressManifest,
  masterKeySecretManifest,
  namespaceManifest,
  operatorContainer,
} from '../src/platform-manifests.ts';
import { kubernetesObjectProblems } from './support/kubernetes-models.ts';

const deployment = deploymentManifest({
  component: 'control-plane',
  image: 'registry.example.com/citadel-control-plane:1.0.0',
  replicas: 2,
  port: 8080,
  resources: { cpu: '500m', memory: '1Gi' },
  container: CONTROL_PLANE_CONTAINER,
});
const operatorDeployment = deploymentManifest({
  component: 'operator',
  image: 'registry.example.com/citadel-operator:1.0.0',
  replicas: 2,
  port: 8081,
  resources: { cpu: '250m', memory: '512Mi' },
  container: operatorContainer({
    instanceId: 'prod01',
    dataPlaneImage: 'registry.example.com/citadel-data-plane:1.0.0',
    tenantDatabase: { host: 'db.example.internal', port: 5432 },
    platformEndpoints: [controlPlaneEndpoint()],
    tokenIssuer: { issuer: 'https://a.example.com', jwksUrl: 'http://cp:8080/jwks' },
  }),
});

describe('the strict Kubernetes schema check the infra tests rely on', () => {
  it('accepts the platform manifests', () => {
    for (const object of [
      deployment,
      operatorDeployment,
      masterKeySecretManifest(Buffer.alloc(32).toString('base64')),
      namespaceManifest('citadel-system', 'restricted'),
      clusterRoleManifest('control-plane', CONTROL_PLANE_RULES),
      ingressManifest({ host: 'a.example.com', ingressClassName: 'nginx', tlsSecretName: 't' }),
    ]) {
      expect(kubernetesObjectProblems(object as never)).toEqual([]);
    }
  });

  it('reports a field no schema declares, however deep', () => {
    const misspelt = structuredClone(deployment) as unknown as {
      spec: {
        replica?: number;
        template: { spec: { containers: Array<Record<string, unknown>> } };
      };
    };
    misspelt.spec.replica = 3;
    const [container] = misspelt.spec.template.spec.containers;
    if (container) container.securityContxt = {};
    expect(kubernetesObjectProblems(misspelt as never).sort()).toEqual([
      '.spec.replica: field not declared by the schema',
      '.spec.template.spec.containers[0].securityContxt: field not declared by the schema',
    ]);
  });

  it('reports a value of the wrong type, and a kind without a schema', () => {
    const wrong = { ...namespaceManifest('x', 'baseline'), metadata: { name: 7 } };
    expect(kubernetesObjectProblems(wrong as never)).not.toEqual([]);
    expect(kubernetesObjectProblems({ apiVersion: 'v1', kind: 'Pod' })).toEqual([
      'no schema for v1/Pod',
    ]);
  });
});

describe('the Tenant CRD the operator commits', () => {
  it('is read from the default path and is a valid CRD, with no undeclared field', () => {
    const crd = readTenantCrd(
      new URL(`../../${PLATFORM_CONFIG_DEFAULTS.tenantCrdPath}`, import.meta.url).pathname,
    );
    expect(crd.spec.names.kind).toBe('Tenant');
    expect(kubernetesObjectProblems(crd as never)).toEqual([]);
  });

  it('refuses a file that is not a CRD', () => {
    expect(() => readTenantCrd(new URL('../package.json', import.meta.url).pathname)).toThrow(
      /not an apiextensions.k8s.io\/v1 CustomResourceDefinition/,
    );
  });
});

describe('kubernetesTypeToken', () => {
  it('names core, grouped and dotted API groups as the Kubernetes provider does', () => {
    expect(kubernetesTypeToken({ apiVersion: 'v1', kind: 'Namespace' })).toBe(
      'kubernetes:core/v1:Namespace',
    );
    expect(kubernetesTypeToken({ apiVersion: 'apps/v1', kind: 'Deployment' })).toBe(
      'kubernetes:apps/v1:Deployment',
    );
    expect(
      kubernetesTypeToken({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' }),
    ).toBe('kubernetes:rbac.authorization.k8s.io/v1:ClusterRole');
  });
});
