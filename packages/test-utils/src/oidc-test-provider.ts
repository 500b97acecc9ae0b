import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Provider } from 'oidc-provider';

/** One account of the test IdP: the claims its userinfo and ID token carry. */
export interface TestAccount {
  email: string;
  name: string;
  groups: string[];
  emailVerified?: boolean;
}

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** One request the provider served, and how long it took from arrival to the last byte. */
export interface ServedRequest {
  method: string;
  /** The path without the query string, e.g. `/token` or `/interaction/…`. */
  path: string;
  milliseconds: number;
}

export interface OidcTestProviderOptions {
  /** Called once each response is sent (the login benchmark splits time by endpoint). */
  onServed?: (request: ServedRequest) => void;
}

/** A real, certified OpenID provider (`oidc-provider`) on loopback, in this process. */
export interface OidcTestProvider {
  issuer: string;
  close(): Promise<void>;
}

/**
 * Starts `oidc-provider` on 127.0.0.1 with one confidential client and the given accounts
 * (account id = the login typed at the dev interaction). PKCE is required for every client.
 */
export async function startOidcTestProvider(
  client: TestClient,
  accounts: Record<string, TestAccount>,
  options: OidcTestProviderOptions = {},
): Promise<OidcTestProvider> {
  let handler: http.RequestListener = (_request, response) => response.end();
  const server = http.createServer((request, response) => handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: [client.redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ['oidc-test-provider-cookie-key'] },
    // Set explicitly: the defaults work but print a notice each on first use.
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3_600,
      IdToken: 600,
      Interaction: 600,
      Session: 3_600,
    },
    findAccount: (_context, id) => {
      const account = accounts[id];
      if (account === undefined) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          email: account.email,
          email_verified: account.emailVerified ?? true,
          name: account.name,
          groups: account.groups,
        }),
      };
    },
  });
  const callback = provider.callback();
  const { onServed } = options;
  handler = (request, response) => {
    if (onServed !== undefined) {
      const started = performance.now();
      response.once('finish', () => {
        onServed({
          method: request.method ?? 'GET',
          path: (request.url ?? '/').split('?')[0] ?? '/',
          milliseconds: performance.now() - started,
        });
      });
    }
    void callback(request, response);
  };
  return {
    issuer,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A cookie jar per origin: enough for a headless browser on loopback (paths ignored). */
export class CookieJar {
  readonly #cookies = new Map<string, Map<string, string>>();

  header(url: string): string {
    const jar = this.#cookies.get(new URL(url).origin) ?? new Map<string, string>();
    return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get(url: string, name: string): string | undefined {
    return this.#cookies.get(new URL(url).origin)?.get(name);
  }

  store(url: string, response: Response): void {
    const origin = new URL(url).origin;
    const jar = this.#cookies.get(origin) ?? new Map<string, string>();
    this.#cookies.set(origin, jar);
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = '', raw = ''] = attribute.trim().split('=');
        return key.toLowerCase() === 'expires' && Date.parse(raw) <= Date.now();
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** fetch with this jar's cookies, never following redirects. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie !== '') headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(url, response);
    return response;
  }
}

function locationOf(response: Response, base: string): string {
  const location = response.headers.get('location');
  if (location === null) {
    throw new Error(`expected a redirect from ${base}, got ${response.status}`);
  }
  return new URL(location, base).href;
}

/**
 * Drives the IdP's dev interactions (login, then consent) the way a browser would, from
 * the authorization URL to the redirect back to the relying party, and returns that URL
 * without following it.
 */
export async function authorizeAtIdp(
  jar: CookieJar,
  authorizationUrl: string,
  accountId: string,
): Promise<string> {
  const issuerOrigin = new URL(authorizationUrl).origin;
  let url = authorizationUrl;
  for (let step = 0; step < 12; step += 1) {
    if (new URL(url).origin !== issuerOrigin) return url;
    const page = await jar.fetch(url);
    if (page.status !== 200) {
      url = locationOf(page, url);
      continue;
    }
    const html = await page.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (prompt === undefined) throw new Error(`no interaction form at ${url}: ${html}`);
    const form = new URLSearchParams({ prompt, login: accountId, password: 'any' });
    const submitted = await jar.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    url = locationOf(submitted, url);
  }
  throw new Error('the IdP did not redirect back');
}
