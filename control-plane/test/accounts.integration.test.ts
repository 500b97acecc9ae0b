import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  dropPlatformResources,
  queryRows,
  startTestPostgres,
  waitFor,
  type TestPostgres,
} from '@citadel/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailOutboxDir } from '../src/accounts/mailer.ts';
import type { RunningPlatform } from '../src/platform.ts';
import { ADMIN_TOKEN, startInProcessPlatform } from './platform-fixture.ts';

/**
 * Console accounts end to end, on a platform started in-process with a real PostgreSQL
 * (and Redis when REDIS_URL is set): sign-up, the mail in the outbox, verification,
 * sign-in, sessions, CSRF, password changes and resets, limits.
 */
const PUBLIC_URL = 'https://console.citadel.test';
const PASSWORD = 'correct horse battery staple';
const LOGINS_PER_ACCOUNT = 5;
const LOGINS_PER_IP = 12;

let postgres: TestPostgres;
let databaseUrl: string;
let platform: RunningPlatform;
let dataDir: string;
let redis: Redis | undefined;

beforeAll(async () => {
  postgres = await startTestPostgres();
  databaseUrl = await postgres.createDatabase('accounts');
  ({ platform, dataDir } = await startInProcessPlatform(databaseUrl, {
    CITADEL_PUBLIC_URL: PUBLIC_URL,
    CITADEL_RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE: String(LOGINS_PER_ACCOUNT),
    CITADEL_RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: String(LOGINS_PER_IP),
  }));
  if (process.env.REDIS_URL) redis = new Redis(process.env.REDIS_URL);
});

afterAll(async () => {
  if (redis) {
    const keys = await redis.keys(`citadel:console-session:${platform.instanceId}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  await platform.close();
  await dropPlatformResources(postgres.url, platform.instanceId);
  await postgres.stop();
  await rm(dataDir, { recursive: true, force: true });
});

let addressCounter = 0;
/** A fresh client address per caller, so the per-IP login limit only trips where a test wants. */
function newIp(): string {
  addressCounter += 1;
  return `10.77.${Math.floor(addressCounter / 250)}.${(addressCounter % 250) + 1}`;
}

let nameCounter = 0;
function unique(prefix: string): string {
  nameCounter += 1;
  return `${prefix}-${nameCounter}-${Math.random().toString(36).slice(2, 7)}`;
}

interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  cookie?: string | undefined;
  csrf?: string | undefined;
  origin?: string | undefined;
  ip?: string;
  token?: string;
}

function headersOf(options: CallOptions): Headers {
  const headers = new Headers({ 'x-forwarded-for': options.ip ?? newIp() });
  const optional: Array<[string, string | undefined]> = [
    ['cookie', options.cookie === undefined ? undefined : `citadel_console=${options.cookie}`],
    ['x-csrf-token', options.csrf],
    ['origin', options.origin],
    ['authorization', options.token === undefined ? undefined : `Bearer ${options.token}`],
  ];
  for (const [name, value] of optional) if (value !== undefined) headers.set(name, value);
  return headers;
}

async function call(pathname: string, options: CallOptions = {}): Promise<Response> {
  const headers = headersOf(options);
  const body =
    options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers.set('content-type', options.contentType ?? 'application/json');
  return fetch(`${platform.url}${pathname}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  });
}

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function expectProblem(response: Response, status: number, type: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = await json<{ type: string; status: number }>(response);
  expect(body).toMatchObject({ type: `https://citadel.azora.dev/problems/${type}`, status });
}

/** The messages in the outbox addressed to `to`, oldest first, quoted-printable undone. */
async function mailsTo(to: string): Promise<string[]> {
  const directory = mailOutboxDir(dataDir);
  const files = (await readdir(directory).catch(() => [])).filter((name) => name.endsWith('.eml'));
  const messages: string[] = [];
  for (const file of files.sort()) {
    const raw = await readFile(path.join(directory, file), 'utf8');
    const decoded = raw
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (new RegExp(`^To: ${to.replace(/[.+]/g, '\\$&')}\\r?$`, 'im').test(decoded)) {
      messages.push(decoded);
    }
  }
  return messages;
}

/** Waits for the `count`-th mail to `to` and returns the token of its `page` link. */
async function tokenFromMail(
  to: string,
  page: 'verify-email' | 'reset-password',
  count = 1,
): Promise<string> {
  return waitFor(
    async () => {
      const message = (await mailsTo(to))[count - 1];
      const match = message?.match(
        new RegExp(`${PUBLIC_URL}/console/${page}\\?token=([A-Za-z0-9_-]{43})`),
      );
      return match?.[1];
    },
    { timeoutMs: 10_000, description: `mail ${count} (${page}) to ${to}` },
  );
}

function signUpBody(overrides: { email?: string; org?: string; tenant?: string } = {}) {
  return {
    email: overrides.email ?? `${unique('user')}@example.com`,
    password: PASSWORD,
    displayName: 'Ada Lovelace',
    organization: { slug: overrides.org ?? unique('org'), displayName: 'Acme Corporation' },
    tenant: { slug: overrides.tenant ?? unique('tenant') },
  };
}

/** Signs up and verifies; returns the e-mail and the tenant slug. */
async function verifiedAccount(): Promise<{ email: string; tenant: string }> {
  const body = signUpBody();
  expect((await call('/auth/signup', { body })).status).toBe(201);
  const token = await tokenFromMail(body.email, 'verify-email');
  expect((await call('/auth/verify-email', { body: { token } })).status).toBe(200);
  return { email: body.email, tenant: body.tenant.slug };
}

interface SignedIn {
  secret: string;
  csrfToken: string;
  setCookie: string;
}

async function logIn(email: string, password = PASSWORD): Promise<SignedIn> {
  const response = await call('/auth/login', { body: { email, password } });
  expect(response.status).toBe(200);
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('citadel_console='));
  const secret = /^citadel_console=([^;]+)/.exec(setCookie ?? '')?.[1];
  if (!setCookie || !secret) throw new Error('no session cookie');
  const { csrfToken } = await json<{ csrfToken: string }>(response);
  return { secret, csrfToken, setCookie };
}

async function sessionStatus(secret: string): Promise<number> {
  return (await call('/auth/session', { cookie: secret })).status;
}

async function countRows(): Promise<Record<string, number>> {
  const [row] = await queryRows<Record<string, string>>(
    databaseUrl,
    `SELECT (SELECT count(*) FROM accounts) AS accounts,
            (SELECT count(*) FROM organizations) AS organizations,
            (SELECT count(*) FROM organization_members) AS members,
            (SELECT count(*) FROM tenants) AS tenants,
            (SELECT count(*) FROM account_email_tokens) AS tokens`,
  );
  return Object.fromEntries(Object.entries(row ?? {}).map(([key, value]) => [key, Number(value)]));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sign-up, verification, sign-in and sign-out', () => {
  it('runs the whole round trip, with CSRF guarding the logout', async () => {
    const body = signUpBody();
    const signedUp = await call('/auth/signup', { body, origin: PUBLIC_URL });
    expect(signedUp.status).toBe(201);
    const created = await json<{
      account: { id: string; email: string; emailVerified: boolean };
      organization: { id: string; slug: string };
      tenant: { slug: string; status: { phase: string } };
    }>(signedUp);
    expect(created.account).toMatchObject({ email: body.email, emailVerified: false });
    expect(created.organization.slug).toBe(body.organization.slug);
    expect(created.tenant.slug).toBe(body.tenant.slug);
    expect(created.tenant.status.phase).toBeTypeOf('string');

    // One transaction wrote the account, its organisation, the owner and the tenant.
    const [tenantRow] = await queryRows<{ organization_id: string; role: string }>(
      databaseUrl,
      `SELECT t.organization_id, m.role FROM tenants t
         JOIN organization_members m ON m.organization_id = t.organization_id
        WHERE t.slug = $1 AND m.account_id = $2`,
      [body.tenant.slug, created.account.id],
    );
    expect(tenantRow).toEqual({ organization_id: created.organization.id, role: 'owner' });

    // The tenant's audit log says who created it.
    const audit = await call(`/api/v1/tenants/${body.tenant.slug}/audit`, { token: ADMIN_TOKEN });
    const entries = await json<{ items: Array<{ action: string; actor: { type: string } }> }>(
      audit,
    );
    expect(entries.items).toContainEqual(
      expect.objectContaining({
        action: 'tenant.created',
        actor: expect.objectContaining({ type: 'account', id: created.account.id }) as unknown,
      }),
    );

    // The verification mail is in the outbox (0700 directory, 0600 files).
    const token = await tokenFromMail(body.email, 'verify-email');
    const outbox = mailOutboxDir(dataDir);
    expect((await stat(outbox)).mode & 0o777).toBe(0o700);
    for (const file of await readdir(outbox)) {
      expect((await stat(path.join(outbox, file))).mode & 0o777).toBe(0o600);
    }
    // Only the token's digest is stored.
    const tokens = await queryRows<{ token_digest: string }>(
      databaseUrl,
      'SELECT token_digest FROM account_email_tokens WHERE account_id = $1',
      [created.account.id],
    );
    expect(tokens).toEqual([{ token_digest: sha256(token) }]);

    // Not verified yet: the right password still gets no session.
    const early = await call('/auth/login', { body: { email: body.email, password: PASSWORD } });
    await expectProblem(early, 403, 'email-not-verified');
    expect(early.headers.getSetCookie()).toEqual([]);

    expect((await call('/auth/verify-email', { body: { token } })).status).toBe(200);
    await expectProblem(
      await call('/auth/verify-email', { body: { token } }),
      400,
      'token-invalid',
    );

    const signedIn = await logIn(body.email.toUpperCase());
    const attributes = signedIn.setCookie.split(';').map((part) => part.trim().toLowerCase());
    expect(attributes).toEqual(
      expect.arrayContaining(['httponly', 'samesite=lax', 'secure', 'path=/', 'max-age=604800']),
    );
    expect(signedIn.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    await expectSessionStored(signedIn.secret, true);

    const session = await call('/auth/session', { cookie: signedIn.secret });
    expect(session.status).toBe(200);
    expect(session.headers.get('cache-control')).toBe('no-store');
    expect(await json(session)).toMatchObject({
      account: { id: created.account.id, email: body.email, emailVerified: true },
      csrfToken: signedIn.csrfToken,
    });
    await expectProblem(await call('/auth/session'), 401, 'session-required');

    // CSRF: no token, a wrong token, a foreign origin: refused, and the session lives on.
    const logout = (options: CallOptions) =>
      call('/auth/logout', { method: 'POST', cookie: signedIn.secret, ...options });
    await expectProblem(await logout({}), 403, 'csrf');
    await expectProblem(await logout({ csrf: 'x'.repeat(43) }), 403, 'csrf');
    await expectProblem(
      await logout({ csrf: signedIn.csrfToken, origin: 'https://evil.example' }),
      403,
      'csrf',
    );
    expect(await sessionStatus(signedIn.secret)).toBe(200);

    const loggedOut = await logout({ csrf: signedIn.csrfToken, origin: PUBLIC_URL });
    expect(loggedOut.status).toBe(204);
    expect(loggedOut.headers.getSetCookie().join()).toMatch(
      /citadel_console=;.*Expires=Thu, 01 Jan 1970/,
    );
    expect(await sessionStatus(signedIn.secret)).toBe(401);
    await expectSessionStored(signedIn.secret, false);
  });

  it('refuses sign-up and login posted from another origin', async () => {
    const body = signUpBody();
    const before = await countRows();
    await expectProblem(
      await call('/auth/signup', { body, origin: 'https://evil.example' }),
      403,
      'csrf',
    );
    await expectProblem(
      await call('/auth/login', {
        body: { email: body.email, password: PASSWORD },
        origin: 'null',
      }),
      403,
      'csrf',
    );
    expect(await countRows()).toEqual(before);
  });
});

/** Where the session lives: Redis with REDIS_URL (and no row), a row otherwise. */
async function expectSessionStored(secret: string, present: boolean): Promise<void> {
  const digest = sha256(secret);
  const rows = await queryRows<{ token_digest: string }>(
    databaseUrl,
    'SELECT token_digest FROM console_sessions',
  );
  // The secret itself is stored nowhere.
  expect(rows.map((row) => row.token_digest)).not.toContain(secret);
  if (redis) {
    const key = `citadel:console-session:${platform.instanceId}:session:${digest}`;
    expect(await redis.exists(key)).toBe(present ? 1 : 0);
    expect(rows).toEqual([]);
  } else {
    expect(rows.some((row) => row.token_digest === digest)).toBe(present);
  }
}

describe('sign-up conflicts and bad input', () => {
  it('answers 409 for a taken e-mail, organisation or tenant slug, and writes nothing', async () => {
    const first = signUpBody();
    expect((await call('/auth/signup', { body: first })).status).toBe(201);
    await tokenFromMail(first.email, 'verify-email');
    const before = await countRows();

    const sameEmail = signUpBody({ email: first.email.toUpperCase() });
    await expectProblem(await call('/auth/signup', { body: sameEmail }), 409, 'email-taken');
    const sameOrganization = signUpBody({ org: first.organization.slug });
    await expectProblem(
      await call('/auth/signup', { body: sameOrganization }),
      409,
      'organization-slug-taken',
    );
    const sameTenant = signUpBody({ tenant: first.tenant.slug });
    await expectProblem(await call('/auth/signup', { body: sameTenant }), 409, 'tenant-exists');

    expect(await countRows()).toEqual(before);
    for (const refused of [sameOrganization, sameTenant]) {
      expect(await mailsTo(refused.email)).toEqual([]);
    }
  });

  it('answers 400, 413 and 415 problems for bad input, and writes nothing', async () => {
    const before = await countRows();
    const signup = (options: CallOptions) => call('/auth/signup', { method: 'POST', ...options });
    await expectProblem(await signup({ rawBody: '{"email": ' }), 400, 'malformed-json');
    await expectProblem(
      await signup({ body: { email: 'a@example.com' } }),
      400,
      'validation-error',
    );
    await expectProblem(
      await signup({ body: { ...signUpBody(), email: 'not an address' } }),
      400,
      'validation-error',
    );
    await expectProblem(
      await signup({ body: { ...signUpBody(), extra: true } }),
      400,
      'validation-error',
    );
    await expectProblem(
      await signup({ body: { ...signUpBody(), password: 'too short' } }),
      400,
      'weak-password',
    );
    const email = `${unique('same')}@example.com`;
    await expectProblem(
      await signup({ body: { ...signUpBody({ email }), password: email.padEnd(12, ' ') } }),
      400,
      'weak-password',
    );
    await expectProblem(
      await signup({ body: signUpBody({ org: 'Bad_Slug' }) }),
      400,
      'invalid-organization-slug',
    );
    await expectProblem(await signup({ body: signUpBody({ tenant: 'x' }) }), 400, 'invalid-slug');
    await expectProblem(
      await signup({ body: { ...signUpBody(), tenant: { slug: unique('t'), plan: 'platinum' } } }),
      400,
      'unknown-plan',
    );
    await expectProblem(
      await signup({
        rawBody: JSON.stringify({ ...signUpBody(), displayName: 'x'.repeat(70_000) }),
      }),
      413,
      'payload-too-large',
    );
    await expectProblem(
      await signup({
        rawBody: 'email=a@example.com',
        contentType: 'application/x-www-form-urlencoded',
      }),
      415,
      'unsupported-media-type',
    );
    await expectProblem(
      await call('/auth/login', { body: { email: 'a@example.com' } }),
      400,
      'validation-error',
    );
    await expectProblem(await call('/auth/verify-email', { body: {} }), 400, 'validation-error');
    expect(await countRows()).toEqual(before);
  });
});

describe('password sign-in', () => {
  it('gives a wrong password and an unknown e-mail the same 401, in similar time', async () => {
    const { email } = await verifiedAccount();
    const wrong = await call('/auth/login', { body: { email, password: 'not the password!' } });
    const unknown = await call('/auth/login', {
      body: { email: `${unique('nobody')}@example.com`, password: PASSWORD },
    });
    const [wrongBody, unknownBody] = await Promise.all([json(wrong), json(unknown)]);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknownBody).toEqual({ ...wrongBody, instance: '/auth/login' });
    expect(wrongBody).toMatchObject({
      type: 'https://citadel.azora.dev/problems/invalid-credentials',
    });

    // An unknown address costs a password hash too. Without it the answer would come in a
    // few milliseconds against tens for a hash; with it the two are alike. The tries are
    // interleaved so load on the machine weighs on both the same.
    const elapsed = async (body: unknown) => {
      const started = performance.now();
      await call('/auth/login', { body });
      return performance.now() - started;
    };
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    // Three tries each: with the one above, within the account's limit of five a minute.
    for (let index = 0; index < 3; index += 1) {
      knownTimes.push(await elapsed({ email, password: 'still not the password' }));
      unknownTimes.push(
        await elapsed({ email: `${unique('ghost')}@example.com`, password: PASSWORD }),
      );
    }
    const median = (times: number[]) => times.sort((a, b) => a - b)[1] ?? 0;
    expect(median(unknownTimes)).toBeGreaterThan(median(knownTimes) * 0.3);
  });

  it('refuses a disabled account', async () => {
    const { email } = await verifiedAccount();
    await queryRows(databaseUrl, 'UPDATE accounts SET disabled_at = now() WHERE email = $1', [
      email,
    ]);
    await expectProblem(
      await call('/auth/login', { body: { email, password: PASSWORD } }),
      401,
      'account-disabled',
    );
  });

  it('ends the session a browser already had when it signs in again', async () => {
    const { email } = await verifiedAccount();
    const first = await logIn(email);
    const response = await call('/auth/login', {
      body: { email, password: PASSWORD },
      cookie: first.secret,
    });
    expect(response.status).toBe(200);
    expect(await sessionStatus(first.secret)).toBe(401);
  });

  it('limits attempts per account (from any address) and per address, with Retry-After', async () => {
    const { email } = await verifiedAccount();
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= LOGINS_PER_ACCOUNT; attempt += 1) {
      const response = await call('/auth/login', { body: { email, password: 'wrong password!' } });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        await expectProblem(response, 429, 'too-many-requests');
      }
    }
    expect(statuses).toEqual([...Array<number>(LOGINS_PER_ACCOUNT).fill(401), 429]);
    // Even the right password waits now.
    expect((await call('/auth/login', { body: { email, password: PASSWORD } })).status).toBe(429);

    const ip = newIp();
    const fromOneAddress: number[] = [];
    for (let attempt = 0; attempt <= LOGINS_PER_IP; attempt += 1) {
      const body = { email: `${unique('spray')}@example.com`, password: PASSWORD };
      fromOneAddress.push((await call('/auth/login', { body, ip })).status);
    }
    expect(fromOneAddress).toEqual([...Array<number>(LOGINS_PER_IP).fill(401), 429]);
  });
});

describe('e-mail verification tokens', () => {
  it('refuses expired and unknown tokens; a resend mails a fresh link', async () => {
    const body = signUpBody();
    expect((await call('/auth/signup', { body })).status).toBe(201);
    const token = await tokenFromMail(body.email, 'verify-email');
    // As if the mail were a day old: expired, and long enough ago for a new one.
    await queryRows(
      databaseUrl,
      `UPDATE account_email_tokens
          SET expires_at = now() - interval '1 minute', created_at = now() - interval '25 hours'
        WHERE token_digest = $1`,
      [sha256(token)],
    );
    await expectProblem(
      await call('/auth/verify-email', { body: { token } }),
      400,
      'token-expired',
    );
    await expectProblem(
      await call('/auth/verify-email', { body: { token: 'A'.repeat(43) } }),
      400,
      'token-invalid',
    );

    // 202 whether or not the address has an account; only a real one gets mail.
    const stranger = `${unique('stranger')}@example.com`;
    for (const email of [body.email, stranger]) {
      const resent = await call('/auth/verify-email/resend', { body: { email } });
      expect(resent.status).toBe(202);
    }
    const fresh = await tokenFromMail(body.email, 'verify-email', 2);
    expect((await call('/auth/verify-email', { body: { token: fresh } })).status).toBe(200);
    expect(await mailsTo(stranger)).toEqual([]);
  });
});

describe('password changes and resets', () => {
  it('changing the password needs the current one and CSRF, and ends the other sessions', async () => {
    const { email } = await verifiedAccount();
    const here = await logIn(email);
    const elsewhere = await logIn(email);
    const change = (body: unknown) =>
      call('/auth/password', { body, cookie: here.secret, csrf: here.csrfToken });
    const changeWithoutCsrf = (body: unknown) =>
      call('/auth/password', { body, cookie: here.secret });
    const newPassword = 'a different long passphrase';

    await expectProblem(
      await change({ currentPassword: 'not it at all', newPassword }),
      403,
      'current-password-incorrect',
    );
    await expectProblem(
      await changeWithoutCsrf({ currentPassword: PASSWORD, newPassword }),
      403,
      'csrf',
    );
    await expectProblem(
      await change({ currentPassword: PASSWORD, newPassword: 'short' }),
      400,
      'weak-password',
    );
    expect((await change({ currentPassword: PASSWORD, newPassword })).status).toBe(204);

    expect(await sessionStatus(here.secret)).toBe(200);
    expect(await sessionStatus(elsewhere.secret)).toBe(401);
    await logIn(email, newPassword);
  });

  it('a reset mails a single-use link; confirming it sets the password and ends every session', async () => {
    const { email } = await verifiedAccount();
    const sessions = [await logIn(email), await logIn(email)];

    expect((await call('/auth/password-reset', { body: { email } })).status).toBe(202);
    const stranger = `${unique('stranger')}@example.com`;
    expect((await call('/auth/password-reset', { body: { email: stranger } })).status).toBe(202);
    const token = await tokenFromMail(email, 'reset-password', 2);

    const confirm = (password: string) =>
      call('/auth/password-reset/confirm', { body: { token, password } });
    await expectProblem(await confirm('too short'), 400, 'weak-password');
    const newPassword = 'the new and much longer password';
    expect((await confirm(newPassword)).status).toBe(204);
    await expectProblem(await confirm('yet another long password'), 400, 'token-invalid');

    for (const session of sessions) expect(await sessionStatus(session.secret)).toBe(401);
    await expectProblem(
      await call('/auth/login', { body: { email, password: PASSWORD } }),
      401,
      'invalid-credentials',
    );
    await logIn(email, newPassword);
    expect(await mailsTo(stranger)).toEqual([]);
  });
});

describe('API description', () => {
  it('documents the /auth routes in the OpenAPI document, open to the public', async () => {
    const response = await call('/api/v1/openapi.json');
    const document = await json<{ paths: Record<string, Record<string, { security?: [] }>> }>(
      response,
    );
    for (const route of ['signup', 'verify-email', 'login', 'session', 'logout', 'password']) {
      expect(Object.keys(document.paths)).toContain(`/auth/${route}`);
    }
    expect(document.paths['/auth/login']?.post?.security).toEqual([]);
  });
});

describe('one account cannot reach another', () => {
  it("logout-everywhere ends all of the account's sessions and none of another's", async () => {
    const first = await verifiedAccount();
    const second = await verifiedAccount();
    const firstSessions = [await logIn(first.email), await logIn(first.email)];
    const secondSession = await logIn(second.email);

    const [signedIn] = firstSessions;
    if (!signedIn) throw new Error('no session');
    await expectProblem(
      await call('/auth/logout-everywhere', { method: 'POST', cookie: signedIn.secret }),
      403,
      'csrf',
    );
    // The other account's CSRF token does not open this account's session.
    await expectProblem(
      await call('/auth/logout-everywhere', {
        method: 'POST',
        cookie: signedIn.secret,
        csrf: secondSession.csrfToken,
      }),
      403,
      'csrf',
    );
    const everywhere = await call('/auth/logout-everywhere', {
      method: 'POST',
      cookie: signedIn.secret,
      csrf: signedIn.csrfToken,
    });
    expect(everywhere.status).toBe(204);
    for (const session of firstSessions) expect(await sessionStatus(session.secret)).toBe(401);
    expect(await sessionStatus(secondSession.secret)).toBe(200);
  });

  it("a session reads its own organisation's tenant through the API, not another's", async () => {
    const first = await verifiedAccount();
    const second = await verifiedAccount();
    const session = await logIn(first.email);
    const own = await call(`/api/v1/tenants/${first.tenant}`, { cookie: session.secret });
    expect(own.status).toBe(200);
    const other = await call(`/api/v1/tenants/${second.tenant}`, { cookie: session.secret });
    expect(other.status).toBe(403);
    // A mutation with the cookie but without the CSRF token is refused before any decision.
    await expectProblem(
      await call(`/api/v1/tenants/${first.tenant}/suspend`, {
        method: 'POST',
        cookie: session.secret,
      }),
      403,
      'csrf',
    );
  });
});
