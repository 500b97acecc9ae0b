import { queryRows, waitFor } from '@citadel/test-utils';
import {
  CookieJar,
  startOidcTestProvider,
  type OidcTestProvider,
} from '@citadel/test-utils/oidc-test-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';
import {
  auditEntries,
  createConnection,
  createTenantWithKeys,
  expectProblem,
  fullLogin,
  loginUpToCallback,
  operatorApi,
  sessionOf,
  startLogin,
  type ConnectionView,
  type SessionView,
  type SsoTestPlatform,
} from './sso-fixture.ts';

let fixture: PlatformFixture;
let platform: SsoTestPlatform;
let idpOne: OidcTestProvider;
let idpTwo: OidcTestProvider;
const tenantIds: Record<string, string> = {};
/** Tenant A's connection: the one most tests change. */
let connectionA: ConnectionView;
/** Tenant B's connection, on the same IdP. */
let connectionB: ConnectionView;

const ONE_SECRET = 'one-client-secret-0123456789';
const TWO_SECRET = 'two-client-secret-0123456789';

const connectionPath = (slug: string, id: string) =>
  `/api/v1/tenants/${slug}/sso-connections/${id}`;

async function patchConnection(
  slug: string,
  id: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return platform.api(connectionPath(slug, id), {
    method: 'PATCH',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function getConnection(slug: string, id: string): Promise<Response> {
  return platform.api(connectionPath(slug, id));
}

async function storedSecret(id: string) {
  const [row] = await queryRows<{ key_version: number; client_secret_ciphertext: Buffer }>(
    fixture.databaseUrl,
    'SELECT key_version, client_secret_ciphertext FROM sso_connections WHERE id = $1',
    [id],
  );
  return row;
}

async function lastAudit(slug: string) {
  return (await auditEntries(platform, slug)).at(-1);
}

async function userOf(slug: string, cookie: string): Promise<SessionView> {
  const response = await sessionOf(platform, slug, cookie);
  expect(response.status).toBe(200);
  return (await response.json()) as SessionView;
}

/**
 * Makes the tenant's active data key overdue, lets the reconciler create the next version
 * (a suspend triggers a reconcile), then resumes the tenant; returns the new version.
 */
async function rotateDataKey(slug: string): Promise<number> {
  const tenantId = tenantIds[slug] ?? '';
  await queryRows(
    fixture.databaseUrl,
    "UPDATE tenant_data_keys SET created_at = now() - interval '10000 days' WHERE tenant_id = $1 AND active",
    [tenantId],
  );
  expect((await platform.api(`/api/v1/tenants/${slug}/suspend`, { method: 'POST' })).status).toBe(
    202,
  );
  const version = await waitFor(
    async () => {
      const [active] = await queryRows<{ version: number }>(
        fixture.databaseUrl,
        'SELECT version FROM tenant_data_keys WHERE tenant_id = $1 AND active',
        [tenantId],
      );
      return active !== undefined && active.version > 1 ? active.version : undefined;
    },
    { timeoutMs: 60_000, description: `${slug} data key rotated` },
  );
  expect((await platform.api(`/api/v1/tenants/${slug}/resume`, { method: 'POST' })).status).toBe(
    202,
  );
  await fixture.waitForPhase(slug, 'Ready', 60_000);
  return version;
}

beforeAll(async () => {
  fixture = await startPlatformFixture();
  platform = operatorApi(fixture.platform.url);
  const redirectUri = `${fixture.platform.url}/sso/callback`;
  [idpOne, idpTwo] = await Promise.all([
    startOidcTestProvider(
      { clientId: 'citadel-one', clientSecret: ONE_SECRET, redirectUri },
      {
        alice: { email: 'alice@acme.example', name: 'Alice', groups: ['admins', 'eng'] },
        eve: { email: 'eve@contractors.example', name: 'Eve', groups: ['eng'] },
      },
    ),
    startOidcTestProvider(
      { clientId: 'citadel-two', clientSecret: TWO_SECRET, redirectUri },
      { alice: { email: 'alice@acme.example', name: 'Alice', groups: ['eng'] } },
    ),
  ]);
  for (const slug of ['upd-a', 'upd-b']) {
    tenantIds[slug] = await createTenantWithKeys(platform, slug);
  }
  const connection = {
    issuer: idpOne.issuer,
    clientId: 'citadel-one',
    clientSecret: ONE_SECRET,
    // No `groups` scope and a claim the IdP never sends: everyone gets the default role.
    scopes: ['openid', 'email', 'profile'],
    claims: { groups: 'team' },
    groupRoles: { admins: 'admin' },
    defaultRole: 'viewer',
    allowedEmailDomains: ['acme.example', 'contractors.example'],
  };
  const createdA = await createConnection(platform, 'upd-a', { ...connection, name: 'idp-a' });
  expect(createdA.status).toBe(201);
  connectionA = (await createdA.json()) as ConnectionView;
  const createdB = await createConnection(platform, 'upd-b', {
    ...connection,
    name: 'idp-b',
    scopes: ['openid', 'email', 'groups'],
    claims: {},
  });
  expect(createdB.status).toBe(201);
  connectionB = (await createdB.json()) as ConnectionView;
});

afterAll(async () => {
  await Promise.all([idpOne.close(), idpTwo.close()]);
  await fixture.close();
});

describe('PATCH /api/v1/tenants/{slug}/sso-connections/{id}', () => {
  it('changes scopes, claim and role mapping, default role; the next login uses them', async () => {
    const before = await fullLogin(platform, connectionA.loginUrl, 'alice');
    expect((await userOf('upd-a', before.cookie)).roles).toEqual(['viewer']);

    const response = await patchConnection('upd-a', connectionA.id, {
      scopes: ['email', 'profile', 'groups'],
      claims: { groups: 'groups' },
      groupRoles: { admins: 'owner', eng: 'member' },
      defaultRole: null,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-z]+"$/);
    const updated = (await response.json()) as ConnectionView;
    expect(updated).toMatchObject({
      scopes: ['openid', 'email', 'profile', 'groups'],
      claims: { email: 'email', name: 'name', groups: 'groups' },
      groupRoles: { admins: 'owner', eng: 'member' },
      allowedEmailDomains: ['acme.example', 'contractors.example'],
      enabled: true,
    });
    expect(updated.defaultRole).toBeUndefined();
    expect(updated.updatedAt > connectionA.updatedAt).toBe(true);
    expect(await lastAudit('upd-a')).toMatchObject({
      action: 'sso.connection.updated',
      target: { type: 'sso-connection', id: connectionA.id },
      details: { changed: ['scopes', 'claims.groups', 'groupRoles', 'defaultRole'] },
    });

    // The session from before is untouched; the next login maps the groups.
    expect((await userOf('upd-a', before.cookie)).roles).toEqual(['viewer']);
    const after = await fullLogin(platform, connectionA.loginUrl, 'alice');
    expect((await userOf('upd-a', after.cookie)).roles).toEqual(['owner', 'member']);
  });

  it('refuses invalid changes with a 400 problem and changes nothing', async () => {
    const before = await getConnection('upd-a', connectionA.id);
    const snapshot = await before.text();
    const auditCount = (await auditEntries(platform, 'upd-a')).length;
    const invalid: unknown[] = [
      {},
      { groupRoles: { admins: 'superuser' } },
      { defaultRole: 'root' },
      { allowedEmailDomains: ['not a domain'] },
      { scopes: ['two words'] },
      { claims: { groups: '' } },
      { claims: { department: 'dept' } },
      { enabled: 'no' },
      { issuer: 'ftp://idp.example' },
      { clientSecret: '' },
      { name: 'Not A Name' },
      { unknownField: true },
      { scopes: ['groups'], enabledd: false },
      [{ enabled: false }],
      '{"enabled": false',
    ];
    for (const body of invalid) {
      const code = typeof body === 'string' ? 'malformed-json' : 'validation-error';
      await expectProblem(await patchConnection('upd-a', connectionA.id, body), 400, code);
    }
    const textBody = await platform.api(connectionPath('upd-a', connectionA.id), {
      method: 'PATCH',
      headers: { 'content-type': 'text/plain' },
      body: 'enabled=false',
    });
    expect(textBody.status).toBe(415);
    expect(await (await getConnection('upd-a', connectionA.id)).text()).toBe(snapshot);
    expect((await auditEntries(platform, 'upd-a')).length).toBe(auditCount);
  });

  it('writes and records nothing for a patch that changes nothing', async () => {
    const before = await getConnection('upd-a', connectionA.id);
    const auditCount = (await auditEntries(platform, 'upd-a')).length;
    const response = await patchConnection('upd-a', connectionA.id, {
      enabled: true,
      allowedEmailDomains: ['Acme.example', 'contractors.example'],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(before.headers.get('etag'));
    expect((await auditEntries(platform, 'upd-a')).length).toBe(auditCount);
  });

  it('checks a changed issuer by discovery before anything is written', async () => {
    const snapshot = await (await getConnection('upd-a', connectionA.id)).text();
    // Same server, other spelling: its metadata names http://127.0.0.1:…, not localhost.
    const wrong = await patchConnection('upd-a', connectionA.id, {
      issuer: idpTwo.issuer.replace('127.0.0.1', 'localhost'),
      clientId: 'citadel-two',
      clientSecret: TWO_SECRET,
    });
    await expectProblem(wrong, 400, 'sso/issuer-discovery-failed');
    expect(await (await getConnection('upd-a', connectionA.id)).text()).toBe(snapshot);

    const moved = await patchConnection('upd-a', connectionA.id, {
      issuer: idpTwo.issuer,
      clientId: 'citadel-two',
      clientSecret: TWO_SECRET,
    });
    expect(moved.status).toBe(200);
    expect(await moved.text()).not.toContain(TWO_SECRET);
    const audit = await lastAudit('upd-a');
    expect(audit?.details).toMatchObject({
      changed: ['issuer', 'clientId', 'clientSecret'],
      issuer: idpTwo.issuer,
    });
    expect(JSON.stringify(audit)).not.toContain(TWO_SECRET);

    const jar = new CookieJar();
    expect(new URL(await startLogin(platform, jar, connectionA.loginUrl)).origin).toBe(
      idpTwo.issuer,
    );
    const { cookie } = await fullLogin(platform, connectionA.loginUrl, 'alice');
    expect(await userOf('upd-a', cookie)).toMatchObject({
      userName: 'alice@acme.example',
      roles: ['member'],
    });
  });

  it('rotates the client secret, encrypted with the tenant’s current data key', async () => {
    const before = await storedSecret(connectionA.id);
    expect(before?.key_version).toBe(1);
    const newVersion = await rotateDataKey('upd-a');
    // Until it is rotated, the secret stays readable with the key version it was sealed with.
    const stillWorks = await fullLogin(platform, connectionA.loginUrl, 'alice');
    expect(stillWorks.callback.status).toBe(302);

    const wrongSecret = 'not-the-client-secret-0123456789';
    const rotated = await patchConnection('upd-a', connectionA.id, { clientSecret: wrongSecret });
    expect(rotated.status).toBe(200);
    expect(await rotated.text()).not.toContain(wrongSecret);
    const after = await storedSecret(connectionA.id);
    expect(after?.key_version).toBe(newVersion);
    expect(
      after?.client_secret_ciphertext.equals(before?.client_secret_ciphertext ?? Buffer.alloc(0)),
    ).toBe(false);
    expect(await lastAudit('upd-a')).toMatchObject({
      action: 'sso.connection.updated',
      details: { changed: ['clientSecret'] },
    });
    // The IdP refuses the wrong secret: proof that the platform now uses the new one.
    const refused = await fullLogin(platform, connectionA.loginUrl, 'alice');
    await expectProblem(refused.callback, 401, 'sso/identity-provider-error');

    expect(
      (await patchConnection('upd-a', connectionA.id, { clientSecret: TWO_SECRET })).status,
    ).toBe(200);
    const accepted = await fullLogin(platform, connectionA.loginUrl, 'alice');
    expect(accepted.callback.status).toBe(302);
  });

  it('applies If-Match to the version it names only', async () => {
    const current = await getConnection('upd-a', connectionA.id);
    const etag = current.headers.get('etag') ?? '';
    const snapshot = await current.text();
    for (const stale of ['"0"', 'W/"abc"', `${etag}, "1"`]) {
      const refused = await patchConnection(
        'upd-a',
        connectionA.id,
        { defaultRole: 'viewer' },
        { 'if-match': stale },
      );
      await expectProblem(refused, 412, 'sso/version-mismatch');
    }
    expect(await (await getConnection('upd-a', connectionA.id)).text()).toBe(snapshot);
    const applied = await patchConnection(
      'upd-a',
      connectionA.id,
      { defaultRole: 'viewer' },
      { 'if-match': etag },
    );
    expect(applied.status).toBe(200);
    expect(applied.headers.get('etag')).not.toBe(etag);
    expect(((await applied.json()) as ConnectionView).defaultRole).toBe('viewer');
  });

  it('refuses a name another connection of the tenant has', async () => {
    const other = await createConnection(platform, 'upd-a', {
      name: 'idp-a-other',
      issuer: idpOne.issuer,
      clientId: 'citadel-one',
      clientSecret: ONE_SECRET,
    });
    expect(other.status).toBe(201);
    const snapshot = await (await getConnection('upd-a', connectionA.id)).text();
    const taken = await patchConnection('upd-a', connectionA.id, { name: 'idp-a-other' });
    await expectProblem(taken, 409, 'sso/connection-name-taken');
    expect(await (await getConnection('upd-a', connectionA.id)).text()).toBe(snapshot);
  });

  it('cannot read or change another tenant’s connection', async () => {
    const snapshot = await (await getConnection('upd-b', connectionB.id)).text();
    await expectProblem(
      await getConnection('upd-a', connectionB.id),
      404,
      'sso/connection-not-found',
    );
    for (const body of [{ enabled: false }, { clientSecret: 'stolen-0123456789' }]) {
      await expectProblem(
        await patchConnection('upd-a', connectionB.id, body),
        404,
        'sso/connection-not-found',
      );
    }
    await expectProblem(
      await patchConnection('upd-a', 'not-a-uuid', { enabled: false }),
      404,
      'sso/connection-not-found',
    );
    await expectProblem(
      await patchConnection('no-such-tenant', connectionB.id, { enabled: false }),
      404,
      'sso/tenant-not-found',
    );
    expect(await (await getConnection('upd-b', connectionB.id)).text()).toBe(snapshot);
  });

  it('ends the sessions of users outside narrowed domains, and only theirs', async () => {
    const alice = await fullLogin(platform, connectionB.loginUrl, 'alice');
    const eve = await fullLogin(platform, connectionB.loginUrl, 'eve');
    expect((await userOf('upd-b', eve.cookie)).userName).toBe('eve@contractors.example');

    const narrowed = await patchConnection('upd-b', connectionB.id, {
      allowedEmailDomains: ['acme.example'],
    });
    expect(narrowed.status).toBe(200);
    await expectProblem(
      await sessionOf(platform, 'upd-b', eve.cookie),
      401,
      'sso/session-required',
    );
    expect((await userOf('upd-b', alice.cookie)).userName).toBe('alice@acme.example');
    expect((await lastAudit('upd-b'))?.details).toMatchObject({
      changed: ['allowedEmailDomains'],
      revokedSessions: 1,
    });
    const again = await fullLogin(platform, connectionB.loginUrl, 'eve');
    await expectProblem(again.callback, 403, 'sso/email-domain-not-allowed');
  });

  it('ends every session of a disabled connection, in no other tenant', async () => {
    const inB = await fullLogin(platform, connectionB.loginUrl, 'alice');
    const inA = await fullLogin(platform, connectionA.loginUrl, 'alice');
    // A login in flight while the connection is disabled must not end with a session.
    const inFlight = new CookieJar();
    const callbackUrl = await loginUpToCallback(platform, inFlight, connectionB.loginUrl, 'alice');

    const disabled = await patchConnection('upd-b', connectionB.id, { enabled: false });
    expect(disabled.status).toBe(200);
    expect(((await disabled.json()) as ConnectionView).enabled).toBe(false);
    await expectProblem(
      await sessionOf(platform, 'upd-b', inB.cookie),
      401,
      'sso/session-required',
    );
    expect((await userOf('upd-a', inA.cookie)).userName).toBe('alice@acme.example');
    const audit = await lastAudit('upd-b');
    expect(audit?.details).toMatchObject({ changed: ['enabled'], enabled: false });
    expect(audit?.details.revokedSessions).toBeGreaterThanOrEqual(2);

    await expectProblem(await inFlight.fetch(callbackUrl), 403, 'sso/connection-disabled');
    expect(inFlight.get(platform.url, 'citadel_session')).toBeUndefined();
    const login = await fetch(`${platform.url}${connectionB.loginUrl}`, { redirect: 'manual' });
    await expectProblem(login, 403, 'sso/connection-disabled');

    expect((await patchConnection('upd-b', connectionB.id, { enabled: true })).status).toBe(200);
    const back = await fullLogin(platform, connectionB.loginUrl, 'alice');
    expect((await userOf('upd-b', back.cookie)).userName).toBe('alice@acme.example');
  });
});
