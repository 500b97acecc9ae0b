import { describe, expect, it } from 'vitest';
import { readHostEnvironment } from '../src/host-environment.ts';

const valid = {
  CITADEL_TENANT_SLUG: 'acme-corp',
  CITADEL_TENANT_ID: '0b6f7c1e-7a53-4a47-9d1a-2f0f6f0f3a11',
  CITADEL_TENANT_DATABASE_URL:
    'postgresql://citadel_abc123_acme_corp:secret@127.0.0.1:5432/citadel_abc123_acme_corp',
  CITADEL_SERVICES: 'library, orchestrator,library',
  PORT: '0',
};

describe('readHostEnvironment', () => {
  it('reads a complete environment', () => {
    expect(readHostEnvironment(valid)).toEqual({
      ok: true,
      environment: {
        tenantSlug: 'acme-corp',
        tenantId: valid.CITADEL_TENANT_ID,
        databaseUrl: valid.CITADEL_TENANT_DATABASE_URL,
        services: ['library', 'orchestrator'],
        port: 0,
        listenHost: '127.0.0.1',
      },
    });
  });

  it('listens on HOST when given an IP address (a pod), and refuses names', () => {
    expect(readHostEnvironment({ ...valid, HOST: '0.0.0.0' })).toMatchObject({
      ok: true,
      environment: { listenHost: '0.0.0.0' },
    });
    expect(readHostEnvironment({ ...valid, HOST: '::' })).toMatchObject({
      ok: true,
      environment: { listenHost: '::' },
    });
    expect(readHostEnvironment({ ...valid, HOST: 'evil.example' })).toEqual({
      ok: false,
      problems: ['HOST "evil.example" is not an IP address to listen on'],
    });
  });

  it('defaults to no services and a free port', () => {
    const { CITADEL_SERVICES: _services, PORT: _port, ...rest } = valid;
    expect(readHostEnvironment(rest)).toMatchObject({
      ok: true,
      environment: { services: [], port: 0 },
    });
  });

  it('lists every problem at once and never echoes the database URL', () => {
    const result = readHostEnvironment({
      CITADEL_TENANT_SLUG: 'Not_A_Slug',
      CITADEL_TENANT_DATABASE_URL: 'mysql://user:hunter2@db/x',
      CITADEL_SERVICES: 'library,Bad Name',
      PORT: '70000',
    });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([
      'CITADEL_TENANT_SLUG "Not_A_Slug" is not a tenant slug',
      'CITADEL_TENANT_ID is required',
      'CITADEL_TENANT_DATABASE_URL must be a postgres:// or postgresql:// URL',
      'CITADEL_SERVICES entry "Bad Name" is not a service name',
      'PORT "70000" must be an integer from 0 to 65535',
    ]);
    expect(problems.join(' ')).not.toContain('hunter2');
  });

  it('requires the tenant and its database', () => {
    expect(readHostEnvironment({})).toEqual({
      ok: false,
      problems: [
        'CITADEL_TENANT_SLUG is required',
        'CITADEL_TENANT_ID is required',
        'CITADEL_TENANT_DATABASE_URL is required',
      ],
    });
  });

  it("reads the platform's token issuer and JWKS URL, both or neither", () => {
    const tokens = {
      CITADEL_TOKEN_ISSUER: 'http://localhost:8080',
      CITADEL_TOKEN_JWKS_URL: 'http://127.0.0.1:8080/.well-known/jwks.json',
    };
    const read = readHostEnvironment({ ...valid, ...tokens });
    expect(read.ok && read.environment.tokens).toEqual({
      issuer: 'http://localhost:8080',
      jwksUrl: new URL(tokens.CITADEL_TOKEN_JWKS_URL),
    });
    expect(readHostEnvironment({ ...valid, CITADEL_TOKEN_ISSUER: 'x' })).toEqual({
      ok: false,
      problems: ['CITADEL_TOKEN_ISSUER and CITADEL_TOKEN_JWKS_URL must be set together'],
    });
    expect(
      readHostEnvironment({ ...valid, ...tokens, CITADEL_TOKEN_JWKS_URL: 'file:///etc/keys' }),
    ).toEqual({
      ok: false,
      problems: ['CITADEL_TOKEN_JWKS_URL "file:///etc/keys" must be an http(s) URL'],
    });
  });
});
