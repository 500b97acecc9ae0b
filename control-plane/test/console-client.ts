import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';

/** A signed-in console account as a browser holds it: the session cookie and the CSRF token. */
export interface ConsoleUser {
  email: string;
  accountId: string;
  cookie: string;
  csrfToken: string;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/** Decodes quoted-printable soft breaks and escapes, as mail bodies may carry them. */
function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The newest `token` from a link to `page` in mail to `to`, read from the outbox transport. */
export async function tokenFromOutbox(dataDir: string, to: string, page: string): Promise<string> {
  const outbox = path.join(dataDir, 'mail', 'outbox');
  const files = (await readdir(outbox)).filter((name) => name.endsWith('.eml')).sort();
  for (const name of files.reverse()) {
    const message = decodeQuotedPrintable(await readFile(path.join(outbox, name), 'utf8'));
    if (!message.toLowerCase().includes(to.toLowerCase())) continue;
    const match = new RegExp(`${page}\\?token=([A-Za-z0-9_-]+)`).exec(message);
    if (match?.[1]) return match[1];
  }
  throw new Error(`no mail to ${to} with a ${page} link`);
}

/** Signs up (organisation + tenant), verifies the address from the outbox and signs in. */
export async function signUpAndSignIn(
  baseUrl: string,
  dataDir: string,
  input: { email: string; organization: string; tenant: string },
): Promise<ConsoleUser> {
  const signup = await fetch(`${baseUrl}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: input.email,
      password: TEST_PASSWORD,
      displayName: input.email.split('@')[0],
      organization: { slug: input.organization, displayName: input.organization },
      tenant: { slug: input.tenant, plan: 'business' },
    }),
  });
  expect(signup.status, await signup.clone().text()).toBe(201);
  return verifyAndSignIn(baseUrl, dataDir, input.email);
}

/** Verifies the address with the token from the outbox and signs in. */
export async function verifyAndSignIn(
  baseUrl: string,
  dataDir: string,
  email: string,
): Promise<ConsoleUser> {
  const token = await tokenFromOutbox(dataDir, email, '/console/verify-email');
  const verified = await fetch(`${baseUrl}/auth/verify-email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  expect(verified.status).toBe(200);
  const login = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: TEST_PASSWORD }),
  });
  expect(login.status, await login.clone().text()).toBe(200);
  const body = (await login.json()) as { account: { id: string }; csrfToken: string };
  const setCookie = login.headers.get('set-cookie') ?? '';
  const cookie = /citadel_console=[^;]+/.exec(setCookie)?.[0];
  if (!cookie) throw new Error(`no session cookie in ${setCookie}`);
  return { email, accountId: body.account.id, cookie, csrfToken: body.csrfToken };
}

/** Sends a request as the console would: cookie, and the CSRF token unless told otherwise. */
export function asConsole(
  user: ConsoleUser,
  init: RequestInit = {},
  options: { csrf?: boolean } = {},
): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('cookie', user.cookie);
  if (options.csrf !== false) headers.set('x-csrf-token', user.csrfToken);
  if (typeof init.body === 'string' && !headers.has('content-type'))
    headers.set('content-type', 'application/json');
  return { ...init, headers };
}

export interface GraphqlResult<T> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string } }>;
}

async function postGraphql<T>(
  baseUrl: string,
  user: ConsoleUser | undefined,
  body: { query: string; variables: Record<string, unknown> },
  csrf: boolean,
): Promise<GraphqlResult<T>> {
  const init: RequestInit = {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify(body),
  };
  const response = await fetch(`${baseUrl}/graphql`, user ? asConsole(user, init, { csrf }) : init);
  const result = (await response.json()) as Omit<GraphqlResult<T>, 'status'>;
  return { status: response.status, ...result };
}

/** Runs a GraphQL operation as the console would (cookie and CSRF token). */
export function graphql<T = Record<string, unknown>>(
  baseUrl: string,
  user: ConsoleUser | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphqlResult<T>> {
  return postGraphql<T>(baseUrl, user, { query, variables }, true);
}

/** The same, as a forged cross-site request would arrive: the cookie but no CSRF token. */
export function graphqlWithoutCsrf(
  baseUrl: string,
  user: ConsoleUser,
  query: string,
): Promise<GraphqlResult<unknown>> {
  return postGraphql(baseUrl, user, { query, variables: {} }, false);
}

/** The first error's code, for assertions. */
export function errorCode(result: GraphqlResult<unknown>): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}
