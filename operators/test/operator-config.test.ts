import { describe, expect, it } from 'vitest';
import { OperatorConfigError, readOperatorConfig } from '../src/kubernetes/operator-config.ts';

const REQUIRED = {
  DATABASE_URL: 'postgres://citadel:secret@db.internal:6432/postgres',
  CITADEL_INSTANCE_ID: 'prod01',
  CITADEL_DATA_PLANE_IMAGE: 'registry.example.com:5000/azora/data-plane:1.4.2',
};

describe('readOperatorConfig', () => {
  it('applies client-go lease timings, port 8081 and the tenant database address of DATABASE_URL', () => {
    const config = readOperatorConfig({
      ...REQUIRED,
      CITADEL_OPERATOR_NAMESPACE: 'citadel-system',
    });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(config.leaseTimings).toEqual({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(config.namespace).toBe('citadel-system');
    expect(config.templates.image).toEqual({
      repository: 'registry.example.com:5000/azora/data-plane',
      tag: '1.4.2',
    });
    expect(config.tenantDatabase).toEqual({
      host: 'db.internal',
      port: 6432,
      sslMode: 'verify-full',
    });
    expect(config.milvus).toBeUndefined();
    expect(config.pulumi).toBeUndefined();
    expect(config.kubeconfigPath).toBeUndefined();
  });

  it('reads the optional platform endpoints, Milvus and Pulumi settings', () => {
    const config = readOperatorConfig({
      ...REQUIRED,
      CITADEL_PLATFORM_ENDPOINTS: JSON.stringify([
        { name: 'database', port: 5432, destination: { cidr: '10.0.0.0/24' } },
      ]),
      CITADEL_MILVUS_ADDRESS: 'milvus.milvus:19530',
      CITADEL_PULUMI_BACKEND_URL: 's3://citadel-state',
      CITADEL_PULUMI_PLATFORM: '{"clusterName":"citadel"}',
    });
    expect(config.templates.platformEndpoints).toHaveLength(1);
    expect(config.milvus).toEqual({ address: 'milvus.milvus:19530', token: undefined });
    expect(config.pulumi?.backendUrl).toBe('s3://citadel-state');
  });

  it('names every invalid variable, and refuses a renew deadline not shorter than the lease', () => {
    const error = (() => {
      try {
        readOperatorConfig({
          CITADEL_DATA_PLANE_IMAGE: 'data-plane',
          CITADEL_PLATFORM_ENDPOINTS: 'nope',
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(OperatorConfigError);
    const message = (error as Error).message;
    for (const name of [
      'DATABASE_URL',
      'CITADEL_INSTANCE_ID',
      'CITADEL_DATA_PLANE_IMAGE',
      'CITADEL_PLATFORM_ENDPOINTS',
    ]) {
      expect(message).toContain(name);
    }
    expect(() =>
      readOperatorConfig({
        ...REQUIRED,
        CITADEL_LEASE_DURATION_MS: '5000',
        CITADEL_LEASE_RENEW_DEADLINE_MS: '5000',
      }),
    ).toThrow(/CITADEL_LEASE_RENEW_DEADLINE_MS/);
  });
});
