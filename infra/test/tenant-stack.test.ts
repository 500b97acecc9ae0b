import { defaultTenantSpec, findPlan, type TenantSpec } from '@citadel/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { tenantProgram, type TenantStackOutputs } from '../src/tenant-program.ts';
import { type TenantPlatformReference } from '../src/tenant-stack.ts';
import {
  MOCK_ACCOUNT_ID,
  mockPulumiEngine,
  type MockedEngine,
  type RecordedResource,
  valueOf,
} from './support/pulumi-mocks.ts';

const PLATFORM: TenantPlatformReference = {
  clusterName: 'citadel',
  nodeRoleArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/citadel-node`,
  subnetIds: ['subnet-private-a', 'subnet-private-b'],
  platformRoleArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/citadel-control-plane`,
};

function spec(slug: string, planId: 'starter' | 'enterprise'): TenantSpec {
  const plan = findPlan(planId);
  if (!plan) {
    throw new Error(`no plan ${planId}`);
  }
  return defaultTenantSpec({ slug, displayName: slug, plan, region: 'eu-west-1' });
}

let engine: MockedEngine;
let enterprise: TenantStackOutputs;
let starter: TenantStackOutputs;

beforeAll(async () => {
  engine = await mockPulumiEngine();
  enterprise = await tenantProgram(spec('globex', 'enterprise'), PLATFORM)();
  starter = await tenantProgram(spec('acme', 'starter'), PLATFORM)();
  await engine.settled();
});

const forTenant = (type: string, slug: string): RecordedResource[] =>
  engine.ofType(type).filter((resource) => resource.name.startsWith(`tenant-${slug}`));

describe('TenantStack (mocked engine)', () => {
  it('gives each tenant a KMS key with rotation on, behind alias/citadel/tenant/<slug>', async () => {
    for (const slug of ['globex', 'acme']) {
      const [key] = forTenant('aws:kms/key:Key', slug);
      expect(key?.inputs.enableKeyRotation).toBe(true);
      expect(key?.inputs.rotationPeriodInDays).toBe(90);
      expect(key?.inputs.tags).toMatchObject({
        'citadel.azora.dev/managed-by': 'citadel-operator',
        'citadel.azora.dev/tenant': slug,
      });
      const [alias] = forTenant('aws:kms/alias:Alias', slug);
      expect(alias?.inputs.name).toBe(`alias/citadel/tenant/${slug}`);
    }
    expect(enterprise.keyAlias).toBe('alias/citadel/tenant/globex');
    expect(await valueOf(enterprise.keyArn as string)).toContain(':key/tenant-globex-key');
  });

  it('lets the platform role use the key, and only use it', () => {
    const [key] = forTenant('aws:kms/key:Key', 'acme');
    const policy = JSON.parse(key?.inputs.policy as string) as {
      Statement: Array<{ Sid: string; Principal: { AWS: string | string[] }; Action: string[] }>;
    };
    const use = policy.Statement.find((statement) => statement.Sid === 'PlatformRolesUseKey');
    expect(use?.Principal.AWS).toEqual([PLATFORM.platformRoleArn]);
    expect(
      use?.Action.every((action) =>
        /^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|DescribeKey)/.test(action),
      ),
    ).toBe(true);
    expect(policy.Statement.map((statement) => statement.Principal.AWS)).toContainEqual(
      `arn:aws:iam::${MOCK_ACCOUNT_ID}:root`,
    );
  });

  it('adds a GPU node group, tainted for the tenant, only when the plan includes GPUs', async () => {
    expect(forTenant('aws:eks/nodeGroup:NodeGroup', 'acme')).toEqual([]);
    expect(starter.gpuNodeGroupName).toBeUndefined();
    const [group] = forTenant('aws:eks/nodeGroup:NodeGroup', 'globex');
    const gpuPool = spec('globex', 'enterprise').resources.gpuPool;
    expect(group?.inputs).toMatchObject({
      clusterName: 'citadel',
      nodeGroupName: 'citadel-tenant-globex-gpu',
      nodeRoleArn: PLATFORM.nodeRoleArn,
      subnetIds: PLATFORM.subnetIds,
      amiType: 'AL2023_x86_64_NVIDIA',
      instanceTypes: [gpuPool.instanceType],
      scalingConfig: { minSize: gpuPool.min, maxSize: gpuPool.max },
      taints: [{ key: 'citadel.azora.dev/tenant', value: 'globex', effect: 'NO_SCHEDULE' }],
      labels: { 'citadel.azora.dev/tenant': 'globex', 'citadel.azora.dev/pool': 'tenant-gpu' },
    });
    expect(await valueOf(enterprise.gpuNodeGroupName as string)).toBe('citadel-tenant-globex-gpu');
  });
});
