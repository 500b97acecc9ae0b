import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_ASSERTION_TYPE } from '../src/data-plane-token.ts';
import {
  bearerTokenOf,
  createTokenAuthenticator,
  type AuthenticationResult,
  type RequestAuthenticator,
} from '../src/request-authentication.ts';
import {
  apiKeyClaims,
  createSigningKey,
  startTestTokenIssuer,
  userClaims,
  type TestTokenIssuer,
} from './test-token-issuer.ts';

/**
 * The host's verifier against a real JWKS served on loopback: real Ed25519 keys, real
 * HTTP fetches, jose doing the checks.
 */

const TENANT = '5d2c8a51-0d1b-4a7e-9a43-3f7d3a0c0001';
const OTHER_TENANT = '5d2c8a51-0d1b-4a7e-9a43-3f7d3a0c0002';
const REFETCH_INTERVAL_MS = 300;

let issuer: TestTokenIssuer;
let authenticator: RequestAuthenticator;

function authenticate(token: string, service = 'library'): Promise<AuthenticationResult> {
  return authenticator.authenticate(`Bearer ${token}`, service);
}

function reasonOf(result: AuthenticationResult): string {
  return result.ok ? 'ok' : result.reason;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  authenticator = createTokenAuthenticator({
    tenantId: TENANT,
    issuer: issuer.issuer,
    jwksUrl: issuer.jwksUrl,
    keyRefetchIntervalMs: REFETCH_INTERVAL_MS,
  });
});

afterAll(async () => {
  await issuer.close();
});

describe('request authentication on the data-plane host', () => {
  it("accepts a user's access token and names the user", async () => {
    const result = await authenticate(await issuer.sign(userClaims(TENANT, 'library')));
    expect(result).toEqual({
      ok: true,
      request: {
        principal: { type: 'user', id: 'user-1', roles: ['member'] },
        tokenId: expect.stringMatching(/^[\da-f-]{36}$/) as unknown,
      },
    });
  });

  it("accepts the gateway's assertion for an API key and for the operator", async () => {
    const apiKey = await issuer.sign(apiKeyClaims(TENANT, 'library'), {
      typ: GATEWAY_ASSERTION_TYPE,
      lifetime: 60,
    });
    expect(await authenticate(apiKey)).toMatchObject({
      ok: true,
      request: { principal: { type: 'api-key', id: 'key-1', scopes: ['library:read'] } },
    });
    const operator = await issuer.sign(
      { ...apiKeyClaims(TENANT, 'library', 'operator'), principal_type: 'operator', scopes: [] },
      { typ: GATEWAY_ASSERTION_TYPE, lifetime: 60 },
    );
    expect(await authenticate(operator)).toMatchObject({
      ok: true,
      request: { principal: { type: 'operator', scopes: [] } },
    });
  });

  it('refuses a token for another tenant or another service', async () => {
    const foreign = await issuer.sign(userClaims(OTHER_TENANT, 'library'));
    expect(reasonOf(await authenticate(foreign))).toBe('wrong-tenant');
    const payments = await issuer.sign(userClaims(TENANT, 'payments'));
    expect(reasonOf(await authenticate(payments, 'library'))).toBe('wrong-audience');
    expect(reasonOf(await authenticate(payments, 'payments'))).toBe('ok');
  });

  it('refuses expired tokens beyond a small clock tolerance, and tokens not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = userClaims(TENANT, 'library');
    const expired = await issuer.sign(claims, { issuedAt: now - 320, lifetime: 300 });
    expect(reasonOf(await authenticate(expired))).toBe('expired-token');
    // Expired two seconds ago: within the tolerance for clocks that differ a little.
    const justExpired = await issuer.sign(claims, { issuedAt: now - 302, lifetime: 300 });
    expect(reasonOf(await authenticate(justExpired))).toBe('ok');
    const notYet = await issuer.sign({ ...claims, nbf: now + 120 });
    expect(reasonOf(await authenticate(notYet))).toBe('invalid-token');
    // Signed with a lifetime no platform token has: refused whatever its exp says.
    const ancient = await issuer.sign(claims, { issuedAt: now - 3600, lifetime: 7200 });
    expect(reasonOf(await authenticate(ancient))).toBe('expired-token');
  });

  it('refuses another issuer, a token without a type it knows, and forged principal claims', async () => {
    const claims = userClaims(TENANT, 'library');
    const untyped = await issuer.sign(claims, { typ: 'JWT' });
    expect(reasonOf(await authenticate(untyped))).toBe('invalid-token');
    // A user token dressed up as an assertion: no principal_type, so no principal.
    const dressedUp = await issuer.sign(claims, { typ: GATEWAY_ASSERTION_TYPE });
    expect(reasonOf(await authenticate(dressedUp))).toBe('invalid-token');
    const selfMadeOperator = await issuer.sign(
      { ...apiKeyClaims(TENANT, 'library', 'someone'), principal_type: 'operator' },
      { typ: GATEWAY_ASSERTION_TYPE },
    );
    expect(reasonOf(await authenticate(selfMadeOperator))).toBe('invalid-token');

    const token = await issuer.sign(claims);
    const [header = '', , signature = ''] = token.split('.');
    const otherIssuer = base64url({ ...claims, iss: 'http://evil.example', exp: 9e9, iat: 1 });
    expect(reasonOf(await authenticate(`${header}.${otherIssuer}.${signature}`))).toBe(
      'invalid-token',
    );
  });

  it('refuses alg none, HS256 keyed with the public key, and a foreign key under our kid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      ...userClaims(TENANT, 'library'),
      iss: issuer.issuer,
      iat: now,
      exp: now + 60,
      jti: 'x',
    };
    const kid = issuer.current().kid;
    const none = `${base64url({ alg: 'none', typ: 'at+jwt', kid })}.${base64url(payload)}.`;
    expect(reasonOf(await authenticate(none))).toBe('invalid-token');

    // The classic confusion: an HMAC keyed with the published public key.
    const signingInput = `${base64url({ alg: 'HS256', typ: 'at+jwt', kid })}.${base64url(payload)}`;
    const publicKey = JSON.stringify(issuer.current().jwk);
    const mac = createHmac('sha256', publicKey).update(signingInput).digest('base64url');
    expect(reasonOf(await authenticate(`${signingInput}.${mac}`))).toBe('invalid-token');

    const stranger = await createSigningKey();
    const forged = await issuer.sign(userClaims(TENANT, 'library'), {
      key: { ...stranger, kid },
    });
    expect(reasonOf(await authenticate(forged))).toBe('invalid-token');
  });

  it('refuses requests without a bearer token', async () => {
    expect(reasonOf(await authenticator.authenticate(undefined, 'library'))).toBe('missing-token');
    expect(reasonOf(await authenticator.authenticate('Basic dXNlcjpwYXNz', 'library'))).toBe(
      'missing-token',
    );
    expect(bearerTokenOf('bearer  abc.def.ghi ')).toBe('abc.def.ghi');
    expect(bearerTokenOf('Bearer a b')).toBeUndefined();
  });

  it('fetches the key set again for a rotated-in kid, and at most once per interval for unknown ones', async () => {
    await authenticate(await issuer.sign(userClaims(TENANT, 'library')));
    const before = issuer.fetches();
    const rotated = await issuer.rotate();
    const fresh = await issuer.sign(userClaims(TENANT, 'library'), { key: rotated });
    expect(reasonOf(await authenticate(fresh))).toBe('ok');
    expect(issuer.fetches()).toBe(before + 1);
    // The old key stays published: its tokens still verify, with no fetch.
    const old = await issuer.sign(userClaims(TENANT, 'library'), { key: issuer.current() });
    expect(reasonOf(await authenticate(old))).toBe('ok');
    expect(issuer.fetches()).toBe(before + 1);

    const unknown = await createSigningKey();
    const started = Date.now();
    const made = await Promise.all(
      Array.from({ length: 20 }, () =>
        issuer.sign(userClaims(TENANT, 'library'), { key: unknown }),
      ),
    );
    const results = await Promise.all(made.map((token) => authenticate(token)));
    expect(results.map(reasonOf)).toEqual(Array.from({ length: 20 }, () => 'invalid-token'));
    // Twenty made-up kids at once cost one fetch, after the interval since the last one.
    expect(issuer.fetches()).toBe(before + 2);
    expect(Date.now() - started).toBeLessThan(5 * REFETCH_INTERVAL_MS + 1_000);
  });

  it('answers keys-unavailable when the key set cannot be fetched', async () => {
    const cold = createTokenAuthenticator({
      tenantId: TENANT,
      issuer: issuer.issuer,
      jwksUrl: issuer.jwksUrl,
    });
    issuer.setDown(true);
    try {
      const token = await issuer.sign(userClaims(TENANT, 'library'));
      expect(reasonOf(await cold.authenticate(`Bearer ${token}`, 'library'))).toBe(
        'keys-unavailable',
      );
    } finally {
      issuer.setDown(false);
    }
    const unreachable = createTokenAuthenticator({
      tenantId: TENANT,
      issuer: issuer.issuer,
      jwksUrl: new URL('http://127.0.0.1:1/.well-known/jwks.json'),
    });
    const token = await issuer.sign(userClaims(TENANT, 'library'));
    expect(reasonOf(await unreachable.authenticate(`Bearer ${token}`, 'library'))).toBe(
      'keys-unavailable',
    );
  });
});
