import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { describe, expect, it } from 'vitest';
import {
  findKubernetesObjectProblems,
  findTenantManifestProblems,
} from '../src/validation/index.ts';

function deployment(container: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { 'any.example/key': 'value' }, ...metadata },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'web:1', ...container }] },
      },
    },
  };
}

describe('findKubernetesObjectProblems', () => {
  it('accepts a valid object, maps (labels, resources) with any keys included', () => {
    const valid = deployment({ resources: { limits: { cpu: '1', 'example.com/widget': '2' } } });
    expect(findKubernetesObjectProblems(valid, Deployment)).toEqual([]);
  });

  it('rejects a misspelt field deep in a pod template, which kubernetes-models lets through', () => {
    const typo = deployment({ securityContext: { runAsNonroot: true } });
    expect(() => {
      new Deployment(typo).validate();
    }).not.toThrow();
    expect(findKubernetesObjectProblems(typo, Deployment)).toEqual([
      '.spec.template.spec.containers[0].securityContext.runAsNonroot: field not declared by the schema',
    ]);
  });

  it('rejects undeclared fields in metadata and at the top level', () => {
    const extra = { ...deployment({}, { labelz: { a: 'b' } }), status2: {} };
    expect(findKubernetesObjectProblems(extra, Deployment)).toEqual([
      '.metadata.labelz: field not declared by the schema',
      '.status2: field not declared by the schema',
    ]);
  });

  it('reports schema violations: wrong types, missing required fields', () => {
    const wrong = deployment({ ports: [{ containerPort: 'eighty' }] });
    expect(findKubernetesObjectProblems(wrong, Deployment).join()).toMatch(/containerPort/);
    const missing = { apiVersion: 'v1', kind: 'ConfigMap', data: { key: 1 } };
    expect(findKubernetesObjectProblems(missing, ConfigMap)).not.toEqual([]);
  });

  it('allows keys the caller declares but the compiled schema does not read', () => {
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, 'x-extra': 1 };
    expect(findKubernetesObjectProblems(object, ConfigMap)).toHaveLength(1);
    expect(
      findKubernetesObjectProblems(object, ConfigMap, {
        isDeclared: (key, path) => path === '' && key === 'x-extra',
      }),
    ).toEqual([]);
  });
});

describe('findTenantManifestProblems', () => {
  it('refuses a kind the templates do not render', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } };
    expect(findTenantManifestProblems(configMap as never)).toEqual(['no schema for v1/ConfigMap']);
  });
});
