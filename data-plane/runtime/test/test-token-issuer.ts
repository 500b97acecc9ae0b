import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { serviceAudience, USER_ACCESS_TOKEN_TYPE } from '../src/data-plane-token.ts';

/** One Ed25519 key of the test issuer. */
export interface TestSigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: JWK;
}

/**
 * A stand-in for the platform's token side, for the host's tests: real Ed25519 keys, a
 * real JWKS served over HTTP on loopback, tokens signed the way the control plane signs
 * them. It counts JWKS fetches, can rotate keys and can go down.
 */
export interface TestTokenIssuer {
  issuer: string;
  jwksUrl: URL;
  /** JWKS requests served so far. */
  fetches(): number;
  /** The key that signs by default. */
  current(): TestSigningKey;
  /** A new key that signs from now on, published beside the old one. */
  rotate(): Promise<TestSigningKey>;
  /** Makes the JWKS endpoint answer 500 (true) or serve again (false). */
  setDown(down: boolean): void;
  sign(claims: JWTPayload, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

export interface SignOptions {
  key?: TestSigningKey;
  typ?: string;
  /** Seconds since the epoch; default now. */
  issuedAt?: number;
  /** Lifetime in seconds; default 300. */
  lifetime?: number;
}

export async function createSigningKey(): Promise<TestSigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, jwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } };
}

export async function startTestTokenIssuer(): Promise<TestTokenIssuer> {
  const keys: TestSigningKey[] = [await createSigningKey()];
  let fetches = 0;
  let down = false;
  const server = http.createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    fetches += 1;
    if (down) {
      response.writeHead(500).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: keys.map((key) => key.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const current = (): TestSigningKey => {
    const [newest] = keys;
    if (!newest) throw new Error('no signing key');
    return newest;
  };
  return {
    issuer,
    jwksUrl: new URL('/.well-known/jwks.json', issuer),
    fetches: () => fetches,
    current,
    async rotate() {
      const key = await createSigningKey();
      keys.unshift(key);
      return key;
    },
    setDown(value) {
      down = value;
    },
    async sign(claims, options = {}) {
      const key = options.key ?? current();
      const issuedAt = options.issuedAt ?? Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({
          alg: 'EdDSA',
          kid: key.kid,
          typ: options.typ ?? USER_ACCESS_TOKEN_TYPE,
        })
        .setIssuer(issuer)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + (options.lifetime ?? 300))
        .setJti(crypto.randomUUID())
        .sign(key.privateKey);
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The claims of a user's access token for `service`. */
export function userClaims(tenantId: string, service: string, userId = 'user-1'): JWTPayload {
  return { sub: userId, aud: serviceAudience(service), tenant: tenantId, roles: ['member'] };
}

/** The claims of a gateway assertion for an API key. */
export function apiKeyClaims(tenantId: string, service: string, keyId = 'key-1'): JWTPayload {
  return {
    sub: keyId,
    aud: serviceAudience(service),
    tenant: tenantId,
    principal_type: 'api-key',
    scopes: ['library:read'],
  };
}
