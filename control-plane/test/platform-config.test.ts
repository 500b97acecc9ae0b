import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readPlatformConfig } from '../src/config/platform-config.ts';

describe('readPlatformConfig', () => {
  it('applies the documented defaults', () => {
    const config = readPlatformConfig({}, '/srv/app');
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir: path.resolve('/srv/app', '.citadel'),
      adminToken: undefined,
    });
  });

  it('reads the abuse limits per minute, with defaults', () => {
    expect(readPlatformConfig({}, '/').rateLimits).toEqual({
      scimPerToken: 600,
      scimPerIp: 1_200,
      failedAuthenticationsPerIp: 20,
      loginPerIp: 30,
      loginPerTenant: 300,
      loginPerAccount: 10,
    });
    const config = readPlatformConfig(
      { CITADEL_RATE_LIMIT_SCIM_PER_MINUTE: '5', CITADEL_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: '7' },
      '/',
    );
    expect(config.rateLimits).toMatchObject({ scimPerToken: 5, loginPerIp: 7 });
    expect(() =>
      readPlatformConfig({ CITADEL_RATE_LIMIT_FAILED_AUTH_PER_IP_PER_MINUTE: '0' }, '/'),
    ).toThrow(/CITADEL_RATE_LIMIT_FAILED_AUTH_PER_IP_PER_MINUTE/);
  });

  it('treats empty variables as unset', () => {
    const config = readPlatformConfig(
      { DATABASE_URL: '', REDIS_URL: '', CITADEL_ADMIN_TOKEN: '' },
      '/srv',
    );
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
  });

  it('names every invalid variable', () => {
    expect(() =>
      readPlatformConfig(
        { PORT: 'eighty', DATABASE_URL: 'not a url', CITADEL_ADMIN_TOKEN: 'short' },
        '/',
      ),
    ).toThrow(ConfigError);
    try {
      readPlatformConfig(
        { PORT: 'eighty', DATABASE_URL: 'not a url', CITADEL_ADMIN_TOKEN: 'short' },
        '/',
      );
    } catch (error) {
      expect(String(error)).toMatch(/PORT/);
      expect(String(error)).toMatch(/DATABASE_URL/);
      expect(String(error)).toMatch(/CITADEL_ADMIN_TOKEN/);
    }
  });
});
