import { describe, expect, it } from 'vitest';
import { findDifferences, findDrift, parseQuantity } from '../src/kubernetes/manifest-drift.ts';

describe('parseQuantity', () => {
  it('reads Kubernetes quantities in every notation the API server writes back', () => {
    expect(parseQuantity('500m')).toBeCloseTo(0.5);
    expect(parseQuantity('0.5')).toBe(0.5);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('1024Mi')).toBe(2 ** 30);
    expect(parseQuantity('2k')).toBe(2000);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('tenant-quota')).toBeUndefined();
    expect(parseQuantity('')).toBeUndefined();
  });
});

describe('findDifferences', () => {
  it('ignores what the server or other managers add, and compares quantities by value', () => {
    const desired = { spec: { hard: { cpu: '0.5', memory: '1024Mi' }, scopes: ['A'] } };
    const live = {
      spec: { hard: { cpu: '500m', memory: '1Gi', pods: '10' }, scopes: ['A'] },
      status: { used: { cpu: '0' } },
      metadata: { resourceVersion: '7' },
    };
    expect(findDifferences(desired, live)).toEqual([]);
  });

  it('names the paths that are missing or changed; lists must keep their length and order', () => {
    const desired = {
      spec: { ports: [{ port: 80, name: 'http' }], selector: { app: 'library' } },
      data: { url: 'cG9zdGdyZXM=' },
    };
    const live = {
      spec: { ports: [{ port: 8080, name: 'http' }, { port: 81 }], selector: {} },
      data: { url: 'b3RoZXI=' },
    };
    expect(findDifferences(desired, live)).toEqual(['spec.ports', 'spec.selector.app', 'data.url']);
    expect(findDifferences({ a: [{ b: 1 }] }, { a: [{ b: 2 }] })).toEqual(['a[0].b']);
    expect(findDifferences({ a: 1 }, undefined)).toEqual(['.']);
  });
});

describe('findDrift', () => {
  const quota = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'tenant-quota' },
    spec: { hard: { pods: '10' } },
  };

  it('reports objects missing, being deleted, or changed, by Kind/name', () => {
    const limits = {
      kind: 'LimitRange',
      metadata: { name: 'tenant-limits' },
      spec: { limits: [] },
    };
    const policy = { kind: 'NetworkPolicy', metadata: { name: 'default-deny' }, spec: {} };
    const live = new Map<string, object>([
      ['ResourceQuota/tenant-quota', { ...quota, spec: { hard: { pods: '999' } } }],
      [
        'NetworkPolicy/default-deny',
        {
          ...policy,
          metadata: { name: 'default-deny', deletionTimestamp: '2026-11-24T12:00:00Z' },
        },
      ],
    ]);
    expect(findDrift([quota, limits, policy], live)).toEqual([
      'ResourceQuota/tenant-quota',
      'LimitRange/tenant-limits',
      'NetworkPolicy/default-deny',
    ]);
  });

  it('finds no drift in an object read back as it was applied (list items lack apiVersion and kind)', () => {
    const { apiVersion: _apiVersion, kind: _kind, ...listed } = quota;
    const live = new Map<string, object>([['ResourceQuota/tenant-quota', { ...listed, ...quota }]]);
    expect(findDrift([quota], live)).toEqual([]);
  });
});
