import { MANAGED_BY, TENANT_LABEL } from '@citadel/tenant-templates';
import { describe, expect, it } from 'vitest';
import type { LiveObject } from '../src/kubernetes/server-side-applier.ts';
import {
  compactObject,
  createTenantObjectCache,
  isOlder,
  parseSelector,
  projectFields,
} from '../src/kubernetes/tenant-object-cache.ts';
import {
  TENANT_OBJECT_TYPES,
  tenantObjectSelector,
} from '../src/kubernetes/tenant-object-renderer.ts';

const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' };
const SERVICE = { apiVersion: 'v1', kind: 'Service' };
const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace' };

/** Object `name` of tenant `slug` at `resourceVersion`, with `extra` fields (spec, status). */
function object(
  type: { apiVersion: string; kind: string },
  slug: string,
  [name, resourceVersion]: [string, string],
  extra: Record<string, unknown> = {},
): LiveObject {
  return {
    ...type,
    metadata: {
      name,
      ...(type.kind === 'Namespace' ? {} : { namespace: `tenant-${slug}` }),
      resourceVersion,
      labels: { [TENANT_LABEL]: slug, 'app.kubernetes.io/managed-by': MANAGED_BY },
    },
    ...extra,
  };
}

/** A cache with every kind listed (empty), as after the operator's first lists. */
function syncedCache() {
  const cache = createTenantObjectCache(TENANT_OBJECT_TYPES);
  for (const type of TENANT_OBJECT_TYPES) cache.replace(type, [], '1');
  return cache;
}

const names = (objects: LiveObject[] | undefined) =>
  objects?.map((item) => item.metadata?.name).sort();

describe('tenant object cache', () => {
  it('answers nothing for a kind until it is listed, and nothing after clear()', () => {
    const cache = createTenantObjectCache(TENANT_OBJECT_TYPES);
    expect(cache.list(DEPLOYMENT, tenantObjectSelector('acme'), 'tenant-acme')).toBeUndefined();
    expect(cache.read({ ...DEPLOYMENT, metadata: { name: 'x', namespace: 'n' } })).toBeUndefined();
    cache.replace(DEPLOYMENT, [], '5');
    expect(cache.list(DEPLOYMENT, tenantObjectSelector('acme'), 'tenant-acme')).toEqual([]);
    expect(cache.list(SERVICE, tenantObjectSelector('acme'), 'tenant-acme')).toBeUndefined();
    cache.clear();
    expect(cache.list(DEPLOYMENT, tenantObjectSelector('acme'), 'tenant-acme')).toBeUndefined();
  });

  it('lists one tenant’s objects of a kind in a namespace; other tenants are never in it', () => {
    const cache = syncedCache();
    cache.replace(
      DEPLOYMENT,
      [
        object(DEPLOYMENT, 'acme', ['library', '10']),
        object(DEPLOYMENT, 'acme', ['sapiens', '11']),
        object(DEPLOYMENT, 'globex', ['library', '12']),
      ],
      '12',
    );
    expect(names(cache.list(DEPLOYMENT, tenantObjectSelector('acme'), 'tenant-acme'))).toEqual([
      'library',
      'sapiens',
    ]);
    expect(names(cache.list(DEPLOYMENT, tenantObjectSelector('globex'), 'tenant-acme'))).toEqual(
      [],
    );
    expect(names(cache.list(DEPLOYMENT, tenantObjectSelector('globex')))).toEqual(['library']);
  });

  it('refuses selectors that ask for more than the watches hold', () => {
    const cache = syncedCache();
    // No tenant, no managed-by, or set-based terms: the API server answers those.
    expect(cache.list(DEPLOYMENT, `app.kubernetes.io/managed-by=${MANAGED_BY}`)).toBeUndefined();
    expect(cache.list(DEPLOYMENT, `${TENANT_LABEL}=acme`)).toBeUndefined();
    expect(cache.list(DEPLOYMENT, `${tenantObjectSelector('acme')},tier in (web)`)).toBeUndefined();
    expect(cache.list({ apiVersion: 'v1', kind: 'Lease' }, tenantObjectSelector('acme'))).toBe(
      undefined,
    );
    // An extra equality term narrows what it holds: answerable.
    cache.recordApplied(object(DEPLOYMENT, 'acme', ['library', '3']));
    expect(
      names(cache.list(DEPLOYMENT, `${tenantObjectSelector('acme')},app=other`, 'tenant-acme')),
    ).toEqual([]);
  });

  it('reads its own writes at once, and an echo of a write is no news', () => {
    const cache = syncedCache();
    cache.recordApplied(object(SERVICE, 'acme', ['library', '20']));
    expect(
      cache.read({ ...SERVICE, metadata: { name: 'library', namespace: 'tenant-acme' } })?.object
        ?.metadata?.resourceVersion,
    ).toBe('20');
    expect(cache.observe(SERVICE, 'ADDED', object(SERVICE, 'acme', ['library', '20']))).toBe(
      undefined,
    );
    // Someone else's later change is.
    expect(cache.observe(SERVICE, 'MODIFIED', object(SERVICE, 'acme', ['library', '21']))).toBe(
      'acme',
    );
    // An event older than what is held changes nothing.
    expect(cache.observe(SERVICE, 'MODIFIED', object(SERVICE, 'acme', ['library', '19']))).toBe(
      undefined,
    );
    expect(
      cache.read({ ...SERVICE, metadata: { name: 'library', namespace: 'tenant-acme' } })?.object
        ?.metadata?.resourceVersion,
    ).toBe('21');
  });

  it('a response that arrives after its own watch event does not roll the object back', () => {
    const cache = syncedCache();
    expect(cache.observe(SERVICE, 'ADDED', object(SERVICE, 'acme', ['library', '31']))).toBe(
      'acme',
    );
    cache.recordApplied(object(SERVICE, 'acme', ['library', '30']));
    expect(
      cache.read({ ...SERVICE, metadata: { name: 'library', namespace: 'tenant-acme' } })?.object
        ?.metadata?.resourceVersion,
    ).toBe('31');
  });

  it('a deletion it made hides late events of the object before it went', () => {
    const cache = syncedCache();
    cache.recordApplied(object(SERVICE, 'acme', ['library', '40']));
    cache.recordDeleted(
      { ...SERVICE, metadata: { name: 'library', namespace: 'tenant-acme' } },
      '42',
    );
    const reference = { ...SERVICE, metadata: { name: 'library', namespace: 'tenant-acme' } };
    expect(cache.read(reference)).toEqual({ object: undefined });
    expect(cache.observe(SERVICE, 'MODIFIED', object(SERVICE, 'acme', ['library', '41']))).toBe(
      undefined,
    );
    expect(cache.read(reference)).toEqual({ object: undefined });
    // Re-created afterwards (by anyone): held again, and news.
    expect(cache.observe(SERVICE, 'ADDED', object(SERVICE, 'acme', ['library', '43']))).toBe(
      'acme',
    );
    expect(cache.read(reference)?.object?.metadata?.resourceVersion).toBe('43');
  });

  it('a deletion by hand is news, and the object is gone from reads and lists', () => {
    const cache = syncedCache();
    cache.recordApplied(object(NAMESPACE, 'acme', ['tenant-acme', '50']));
    expect(
      cache.observe(NAMESPACE, 'DELETED', object(NAMESPACE, 'acme', ['tenant-acme', '51'])),
    ).toBe('acme');
    expect(cache.read({ ...NAMESPACE, metadata: { name: 'tenant-acme' } })).toEqual({
      object: undefined,
    });
    expect(cache.size()).toBe(0);
  });

  it('a relist drops what is gone, keeps what was written after it, and names who changed', () => {
    const cache = syncedCache();
    cache.replace(
      SERVICE,
      [object(SERVICE, 'acme', ['library', '60']), object(SERVICE, 'globex', ['library', '61'])],
      '61',
    );
    cache.recordApplied(object(SERVICE, 'initech', ['library', '70']));
    const changed = cache.replace(SERVICE, [object(SERVICE, 'acme', ['library', '60'])], '65');
    expect([...changed]).toEqual(['globex']);
    expect(names(cache.list(SERVICE, tenantObjectSelector('globex')))).toEqual([]);
    expect(names(cache.list(SERVICE, tenantObjectSelector('initech')))).toEqual(['library']);
  });

  it('an object that loses the operator’s labels leaves the cache', () => {
    const cache = syncedCache();
    cache.recordApplied(object(SERVICE, 'acme', ['library', '80']));
    const unlabelled = object(SERVICE, 'acme', ['library', '81']);
    unlabelled.metadata = { ...unlabelled.metadata, labels: {} };
    cache.observe(SERVICE, 'MODIFIED', unlabelled);
    expect(names(cache.list(SERVICE, tenantObjectSelector('acme')))).toEqual([]);
  });

  it('keeps the fields the operator owns, the naming metadata, and a Deployment’s availability', () => {
    const deployment = object(DEPLOYMENT, 'acme', ['library', '90'], {
      spec: {
        replicas: 2,
        progressDeadlineSeconds: 600,
        template: {
          spec: {
            containers: [
              { name: 'library', image: 'library:1', terminationMessagePath: '/dev/x' },
              { name: 'sidecar', image: 'mesh:2' },
            ],
          },
        },
      },
      status: { availableReplicas: 1, conditions: [{ type: 'Available' }] },
    });
    deployment.metadata = {
      ...deployment.metadata,
      uid: 'u-1',
      managedFields: [
        {
          manager: 'citadel-operator',
          operation: 'Apply',
          fieldsV1: {
            'f:metadata': { 'f:labels': { [`f:${TENANT_LABEL}`]: {} } },
            'f:spec': {
              'f:template': {
                'f:spec': {
                  'f:containers': {
                    'k:{"name":"library"}': { '.': {}, 'f:name': {}, 'f:image': {} },
                  },
                },
              },
            },
          },
        },
        // Someone else's: the replicas (an autoscaler) and a sidecar (a mesh injector).
        { manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:spec': {} } },
      ],
    } as LiveObject['metadata'];
    expect(compactObject(deployment)).toEqual({
      ...DEPLOYMENT,
      metadata: {
        name: 'library',
        namespace: 'tenant-acme',
        uid: 'u-1',
        resourceVersion: '90',
        labels: deployment.metadata?.labels,
      },
      spec: { template: { spec: { containers: [{ name: 'library', image: 'library:1' }] } } },
      status: { availableReplicas: 1 },
    });
    // Nothing applied by the operator: only what names it (everything else reads as drift).
    const service = object(SERVICE, 'acme', ['library', '91'], {
      spec: { ports: [{ port: 80 }] },
      status: { loadBalancer: {} },
    });
    expect(compactObject(service)).toEqual({
      ...SERVICE,
      metadata: {
        name: 'library',
        namespace: 'tenant-acme',
        resourceVersion: '91',
        labels: service.metadata?.labels,
      },
    });
  });

  it('projects set items, indexed items and atomic values by their field set', () => {
    expect(
      projectFields(
        { finalizers: ['a', 'b'], args: ['--x', '--y'], rules: [{ n: 1 }, { n: 2 }] },
        { 'f:finalizers': { 'v:"b"': {} }, 'f:args': {}, 'f:rules': { 'i:1': { 'f:n': {} } } },
      ),
    ).toEqual({ finalizers: ['b'], args: ['--x', '--y'], rules: [{ n: 2 }] });
  });

  it('compares resourceVersions only when both are integers', () => {
    expect(isOlder('9', '10')).toBe(true);
    expect(isOlder('10', '9')).toBe(false);
    expect(isOlder('10', '10')).toBe(false);
    expect(isOlder('123456789012345678901', '123456789012345678902')).toBe(true);
    expect(isOlder('abc', '10')).toBe(false);
    expect(isOlder(undefined, '10')).toBe(false);
  });

  it('parses equality and existence selectors, and refuses the others', () => {
    expect(parseSelector('a=b,c==d,e')).toEqual(
      new Map([
        ['a', 'b'],
        ['c', 'd'],
        ['e', undefined],
      ]),
    );
    expect(parseSelector('a!=b')).toBeUndefined();
    expect(parseSelector('!a')).toBeUndefined();
    expect(parseSelector('a in (b)')).toBeUndefined();
  });
});
