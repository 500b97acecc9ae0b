import { describe, expect, it } from 'vitest';
import { operatorPolicy } from '../src/platform-iam.ts';
import { postgresParameterGroupFamily } from '../src/platform-database.ts';
import { planSubnets } from '../src/platform-network.ts';
import { kmsRotationPeriodDays, tenantKeyAlias } from '../src/tenant-stack.ts';
import { milvusValues } from '../src/milvus-release.ts';

describe('infrastructure rules', () => {
  it('carves a /16 into private /19s and public /22s that do not overlap', () => {
    expect(planSubnets('10.40.0.0/16', 3)).toEqual({
      privateCidrs: ['10.40.0.0/19', '10.40.32.0/19', '10.40.64.0/19'],
      publicCidrs: ['10.40.192.0/22', '10.40.196.0/22', '10.40.200.0/22'],
    });
    expect(() => planSubnets('10.40.0.0/20', 3)).toThrow(/\/16/);
    expect(() => planSubnets('10.40.0.0/16', 1)).toThrow(/between 2 and 6/);
  });

  it('refuses PostgreSQL older than 15', () => {
    expect(postgresParameterGroupFamily('16.4')).toBe('postgres16');
    expect(postgresParameterGroupFamily('15')).toBe('postgres15');
    expect(() => postgresParameterGroupFamily('14.12')).toThrow(/15 or later/);
  });

  it('keeps key rotation within what KMS accepts', () => {
    expect(kmsRotationPeriodDays(30)).toBe(90);
    expect(kmsRotationPeriodDays(180)).toBe(180);
    expect(kmsRotationPeriodDays(10_000)).toBe(2560);
    expect(tenantKeyAlias('acme')).toBe('alias/citadel/tenant/acme');
  });

  it('scopes the operator to keys it tagged, tenant node groups and the node role', () => {
    const policy = operatorPolicy({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '123456789012',
      clusterName: 'citadel',
      nodeRoleArn: 'arn:aws:iam::123456789012:role/node',
    });
    const bySid = new Map(policy.Statement.map((statement) => [statement.Sid, statement]));
    expect(bySid.get('AdministerTenantKeys')?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/citadel.azora.dev/managed-by': 'citadel-operator' },
    });
    expect(bySid.get('ManageTenantNodeGroups')?.Resource).toEqual([
      'arn:aws:eks:eu-west-1:123456789012:cluster/citadel',
      'arn:aws:eks:eu-west-1:123456789012:nodegroup/citadel/citadel-tenant-*/*',
    ]);
    expect(bySid.get('PassNodeRoleToEks')?.Resource).toBe('arn:aws:iam::123456789012:role/node');
    const actions = policy.Statement.flatMap((statement) => statement.Action);
    expect(actions).not.toContain('*');
    expect(actions.filter((action) => action.endsWith(':*'))).toEqual([]);
  });

  it('sizes Milvus by mode', () => {
    expect(milvusValues({ mode: 'standalone', replicas: 1, storageGi: 50 })).toMatchObject({
      cluster: { enabled: false },
      standalone: { persistence: { persistentVolumeClaim: { size: '50Gi' } } },
    });
    expect(milvusValues({ mode: 'cluster', replicas: 3, storageGi: 50 })).toMatchObject({
      cluster: { enabled: true },
      queryNode: { replicas: 3 },
      etcd: { replicaCount: 3 },
    });
  });
});
