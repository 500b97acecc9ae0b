import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@citadel/test-utils';
import { startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';
import {
  asConsole,
  errorCode,
  graphql,
  graphqlWithoutCsrf,
  signUpAndSignIn,
  tokenFromOutbox,
  verifyAndSignIn,
  TEST_PASSWORD,
  type ConsoleUser,
} from './console-client.ts';

const ORGANIZATIONS = `query { viewer { email } organizations { slug myRole tenants { slug myRole } } }`;
const INVITE = `mutation ($org: String!, $email: String!, $role: MemberRole!) {
  inviteMember(organization: $org, email: $email, role: $role) { id email role }
}`;
const ACCEPT = `mutation ($token: String!) { acceptInvitation(token: $token) { slug } }`;
const MEMBERS = `query ($slug: String!) { organization(slug: $slug) { members { accountId email role } } }`;
const UPDATE_ROLE = `mutation ($org: String!, $account: ID!, $role: MemberRole!) {
  updateMemberRole(organization: $org, accountId: $account, role: $role) { role }
}`;
const TENANT_ROLE = `mutation ($tenant: String!, $account: ID!, $role: MemberRole) {
  setTenantMemberRole(tenant: $tenant, accountId: $account, role: $role)
}`;
const CREATE_KEY = `mutation ($tenant: String!) { createApiKey(tenant: $tenant, name: "ci") { id key } }`;
const TENANT = `query ($slug: String!) { tenant(slug: $slug) { slug plan myRole } }`;

/**
 * Organisations and members end to end: console accounts signed up through /auth, the
 * console's GraphQL API and the operator REST API under a session cookie, every decision
 * made by Cedar (roles per organisation and per tenant).
 */
describe('organisations, members and roles', () => {
  let fixture: PlatformFixture;
  let base: string;
  let alice: ConsoleUser;
  let bob: ConsoleUser;

  beforeAll(async () => {
    fixture = await startPlatformFixture();
    base = fixture.platform.url;
    alice = await signUpAndSignIn(base, fixture.dataDir, {
      email: 'alice@acme.test',
      organization: 'acme-org',
      tenant: 'acme',
    });
    bob = await signUpAndSignIn(base, fixture.dataDir, {
      email: 'Bob@globex.test',
      organization: 'globex-org',
      tenant: 'globex',
    });
  }, 120_000);

  afterAll(async () => {
    await fixture.close();
  });

  it('shows a new account its organisation and tenant as owner', async () => {
    const result = await graphql<{
      viewer: { email: string };
      organizations: Array<{ slug: string; myRole: string; tenants: Array<{ slug: string }> }>;
    }>(base, alice, ORGANIZATIONS);
    expect(result.errors).toBeUndefined();
    expect(result.data?.viewer.email).toBe('alice@acme.test');
    expect(result.data?.organizations).toEqual([
      { slug: 'acme-org', myRole: 'OWNER', tenants: [{ slug: 'acme', myRole: 'OWNER' }] },
    ]);
  });

  it('refuses signed-out callers and cookie POSTs without the CSRF token', async () => {
    expect(errorCode(await graphql(base, undefined, ORGANIZATIONS))).toBe('UNAUTHENTICATED');
    const noCsrf = await graphqlWithoutCsrf(base, alice, ORGANIZATIONS);
    expect(noCsrf.status).toBe(403);
    expect(errorCode(noCsrf)).toBe('CSRF');
    const rest = await fetch(
      `${base}/api/v1/tenants/acme/api-keys`,
      asConsole(alice, { method: 'POST', body: JSON.stringify({ name: 'x' }) }, { csrf: false }),
    );
    expect(rest.status).toBe(403);
    expect(((await rest.json()) as { type: string }).type).toMatch(/csrf$/);
  });

  it('keeps organisations apart: no account reads or changes another organisation', async () => {
    expect(errorCode(await graphql(base, alice, MEMBERS, { slug: 'globex-org' }))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await graphql(base, alice, TENANT, { slug: 'globex' }))).toBe('FORBIDDEN');
    expect(errorCode(await graphql(base, alice, CREATE_KEY, { tenant: 'globex' }))).toBe(
      'FORBIDDEN',
    );
    const get = await fetch(`${base}/api/v1/tenants/globex`, asConsole(alice));
    expect(get.status).toBe(403);
    const suspend = await fetch(
      `${base}/api/v1/tenants/globex/suspend`,
      asConsole(alice, { method: 'POST' }),
    );
    expect(suspend.status).toBe(403);
    // Listing every tenant is the platform operator's alone.
    expect((await fetch(`${base}/api/v1/tenants`, asConsole(alice))).status).toBe(403);
    const tenant = await fixture.api('/api/v1/tenants/globex');
    expect(((await tenant.json()) as { spec: { suspended: boolean } }).spec.suspended).toBe(false);
  });

  it('invites a member by e-mail; only the invited address can accept, once', async () => {
    const invited = await graphql<{ inviteMember: { email: string; role: string } }>(
      base,
      alice,
      INVITE,
      { org: 'acme-org', email: 'bob@GLOBEX.test', role: 'MEMBER' },
    );
    expect(invited.errors).toBeUndefined();
    const token = await tokenFromOutbox(
      fixture.dataDir,
      'bob@globex.test',
      '/console/accept-invitation',
    );
    // Someone else signed in cannot use Bob's invitation.
    expect(errorCode(await graphql(base, alice, ACCEPT, { token }))).toBe('FORBIDDEN');
    const accepted = await graphql<{ acceptInvitation: { slug: string } }>(base, bob, ACCEPT, {
      token,
    });
    expect(accepted.data?.acceptInvitation.slug).toBe('acme-org');
    const again = await graphql(base, bob, ACCEPT, { token });
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
  });

  it('lets a member read but not administer; a tenant grant widens one tenant only', async () => {
    const read = await graphql<{ tenant: { myRole: string } }>(base, bob, TENANT, { slug: 'acme' });
    expect(read.data?.tenant.myRole).toBe('MEMBER');
    expect((await fetch(`${base}/api/v1/tenants/acme`, asConsole(bob))).status).toBe(200);
    const denied = await fetch(
      `${base}/api/v1/tenants/acme/api-keys`,
      asConsole(bob, { method: 'POST', body: JSON.stringify({ name: 'bob-key' }) }),
    );
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { decisionId: string }).decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      errorCode(
        await graphql(base, bob, INVITE, { org: 'acme-org', email: 'x@y.test', role: 'VIEWER' }),
      ),
    ).toBe('FORBIDDEN');

    const granted = await graphql(base, alice, TENANT_ROLE, {
      tenant: 'acme',
      account: bob.accountId,
      role: 'ADMIN',
    });
    expect(granted.errors).toBeUndefined();
    const allowed = await fetch(
      `${base}/api/v1/tenants/acme/api-keys`,
      asConsole(bob, { method: 'POST', body: JSON.stringify({ name: 'bob-key' }) }),
    );
    expect(allowed.status).toBe(201);
    // A tenant admin cannot make anyone (himself included) owner of the tenant.
    const selfPromotion = await graphql(base, bob, TENANT_ROLE, {
      tenant: 'acme',
      account: bob.accountId,
      role: 'OWNER',
    });
    expect(errorCode(selfPromotion)).toBe('FORBIDDEN');
    // The grant is for the tenant, not the organisation.
    expect(
      errorCode(
        await graphql(base, bob, INVITE, { org: 'acme-org', email: 'x@y.test', role: 'VIEWER' }),
      ),
    ).toBe('FORBIDDEN');
    // Members may not suspend or delete (owners only, by the plan's policies).
    const suspend = await fetch(
      `${base}/api/v1/tenants/acme/suspend`,
      asConsole(bob, { method: 'POST' }),
    );
    expect(suspend.status).toBe(403);
  });

  it('lets admins manage members but only owners make or unmake owners', async () => {
    const promoted = await graphql(base, alice, UPDATE_ROLE, {
      org: 'acme-org',
      account: bob.accountId,
      role: 'ADMIN',
    });
    expect(promoted.errors).toBeUndefined();
    const members = await graphql<{
      organization: { members: Array<{ accountId: string; role: string }> };
    }>(base, bob, MEMBERS, { slug: 'acme-org' });
    const aliceId = members.data?.organization.members.find((m) => m.role === 'OWNER')?.accountId;
    expect(aliceId).toBe(alice.accountId);
    expect(
      errorCode(
        await graphql(base, bob, UPDATE_ROLE, {
          org: 'acme-org',
          account: aliceId,
          role: 'MEMBER',
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      errorCode(
        await graphql(base, bob, INVITE, {
          org: 'acme-org',
          email: 'eve@acme.test',
          role: 'OWNER',
        }),
      ),
    ).toBe('FORBIDDEN');
    const viewerInvite = await graphql(base, bob, INVITE, {
      org: 'acme-org',
      email: 'carol@acme.test',
      role: 'VIEWER',
    });
    expect(viewerInvite.errors).toBeUndefined();
  });

  it('keeps the last owner', async () => {
    const demoted = await graphql(base, alice, UPDATE_ROLE, {
      org: 'acme-org',
      account: alice.accountId,
      role: 'ADMIN',
    });
    expect(errorCode(demoted)).toBe('CONFLICT');
    expect(demoted.errors?.[0]?.extensions?.reason).toBe('last-owner');
  });

  it('creates tenants in the organisation and records member changes in their audit logs', async () => {
    const created = await graphql<{ createTenant: { slug: string; myRole: string } }>(
      base,
      bob,
      `
        mutation {
          createTenant(
            organization: "acme-org"
            slug: "acme-eu"
            displayName: "Acme EU"
            plan: "starter"
          ) {
            slug
            myRole
          }
        }
      `,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createTenant).toEqual({ slug: 'acme-eu', myRole: 'ADMIN' });
    const log = await fixture.api('/api/v1/tenants/acme/audit?limit=100');
    const entries = (
      (await log.json()) as { items: Array<{ action: string; actor: { type: string } }> }
    ).items;
    const actions = entries.map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining(['member.invited', 'member.joined', 'member.role-changed']),
    );
    expect(entries.find((entry) => entry.action === 'api-key.issued')?.actor.type).toBe('account');
  });

  it("records sign-ins, and failed ones, in the logs of the account's tenants", async () => {
    const wrong = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@acme.test', password: 'not the password at all' }),
    });
    expect(wrong.status).toBe(401);
    const entries = await waitFor(
      async () => {
        const log = await fixture.api('/api/v1/tenants/acme/audit?limit=200');
        const items = (
          (await log.json()) as { items: Array<{ action: string; actor: { id?: string } }> }
        ).items;
        return items.some((entry) => entry.action === 'account.sign-in.failed') ? items : undefined;
      },
      { timeoutMs: 10_000, description: 'the failed sign-in in the audit log' },
    );
    const signIns = entries.filter((entry) => entry.action.startsWith('account.sign-in'));
    expect(
      signIns.some(
        (entry) =>
          entry.action === 'account.sign-in.succeeded' && entry.actor.id === alice.accountId,
      ),
    ).toBe(true);
  });

  it('removing a member ends their access to the organisation and its tenants', async () => {
    const removed = await graphql(
      base,
      alice,
      `
        mutation ($account: ID!) {
          removeMember(organization: "acme-org", accountId: $account)
        }
      `,
      { account: bob.accountId },
    );
    expect(removed.errors).toBeUndefined();
    expect(errorCode(await graphql(base, bob, TENANT, { slug: 'acme' }))).toBe('FORBIDDEN');
    expect((await fetch(`${base}/api/v1/tenants/acme`, asConsole(bob))).status).toBe(403);
    // Bob's own organisation is untouched.
    expect((await fetch(`${base}/api/v1/tenants/globex`, asConsole(bob))).status).toBe(200);
  });

  it('answers bad input with coded errors and changes nothing', async () => {
    const badSlug = await graphql(
      base,
      alice,
      `
        mutation {
          createOrganization(slug: "Not A Slug", displayName: "x") {
            slug
          }
        }
      `,
    );
    expect(errorCode(badSlug)).toBe('BAD_USER_INPUT');
    const badEmail = await graphql(base, alice, INVITE, {
      org: 'acme-org',
      email: 'nope',
      role: 'MEMBER',
    });
    expect(errorCode(badEmail)).toBe('BAD_USER_INPUT');
    const badRole = await graphql(base, alice, INVITE, {
      org: 'acme-org',
      email: 'a@b.test',
      role: 'GOD',
    });
    expect(badRole.status).toBe(400);
    const badPlan = await graphql(
      base,
      alice,
      `
        mutation {
          createTenant(
            organization: "acme-org"
            slug: "acme-x"
            displayName: "x"
            plan: "platinum"
          ) {
            slug
          }
        }
      `,
    );
    expect(errorCode(badPlan)).toBe('BAD_USER_INPUT');
    expect((await fixture.api('/api/v1/tenants/acme-x')).status).toBe(404);
    const unknownOrg = await graphql(base, alice, MEMBERS, { slug: 'nobody-org' });
    expect(errorCode(unknownOrg)).toBe('NOT_FOUND');
  });

  it('signs a verified invitee up and in, then lets them accept', async () => {
    const signup = await fetch(`${base}/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'carol@acme.test',
        password: TEST_PASSWORD,
        displayName: 'Carol',
        organization: { slug: 'carol-org', displayName: 'Carol' },
        tenant: { slug: 'carol', plan: 'starter' },
      }),
    });
    expect(signup.status).toBe(201);
    const carol = await verifyAndSignIn(base, fixture.dataDir, 'carol@acme.test');
    const token = await tokenFromOutbox(
      fixture.dataDir,
      'carol@acme.test',
      '/console/accept-invitation',
    );
    const accepted = await graphql(base, carol, ACCEPT, { token });
    expect(accepted.errors).toBeUndefined();
    const read = await graphql<{ tenant: { myRole: string } }>(base, carol, TENANT, {
      slug: 'acme',
    });
    expect(read.data?.tenant.myRole).toBe('VIEWER');
  });
});
