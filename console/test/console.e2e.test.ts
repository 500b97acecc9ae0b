import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from '@citadel/test-utils';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD, tokenFromOutbox } from '../../control-plane/test/console-client.ts';
import {
  startPlatformFixture,
  type PlatformFixture,
} from '../../control-plane/test/platform-fixture.ts';

/**
 * The console end to end, in a real Chromium (Debian's `chromium`, driven by playwright-core)
 * against the platform started in-process on a real PostgreSQL: a buyer signs up, confirms
 * the address from the mail outbox, signs in, watches the tenant come up, takes an API key
 * and invites a colleague, who signs up, accepts and sees the organisation as a member.
 */
const CHROMIUM = '/usr/bin/chromium';
const chromiumInstalled = existsSync(CHROMIUM);
const BUILD_MAIN = fileURLToPath(new URL('../src/console-build-main.ts', import.meta.url));

if (!chromiumInstalled) {
  console.warn(
    `console e2e tests skipped: ${CHROMIUM} is not installed (apt-get install chromium; .ci/run does).`,
  );
}

const alice = {
  name: 'Alice Admin',
  email: 'alice@acme.test',
  organization: 'Acme Corporation',
  tenant: 'acme-prod',
  plan: 'Business',
};
const bob = {
  name: 'Bob Builder',
  email: 'bob@globex.test',
  organization: 'Globex',
  tenant: 'globex-prod',
  plan: 'Starter',
};
type Person = typeof alice;

/** Set to a folder to keep a full-page screenshot of the key screens (for reviewing the UI). */
const SCREENSHOTS_DIR = process.env.CONSOLE_E2E_SCREENSHOTS;

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS_DIR === undefined || SCREENSHOTS_DIR === '') return;
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
}

/** Everything the pages wrote that a user should never see: CSP violations, script errors. */
function watchForProblems(page: Page, problems: string[]): void {
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
}

function mailToken(fixture: PlatformFixture, to: string, page: string): Promise<string> {
  return waitFor(() => tokenFromOutbox(fixture.dataDir, to, page), {
    timeoutMs: 15_000,
    description: `mail to ${to} with a ${page} link`,
  });
}

async function signUp(page: Page, base: string, person: Person): Promise<void> {
  await page.goto(`${base}/console/sign-up`);
  await page.getByLabel('Your name').fill(person.name);
  await page.getByLabel('Work e-mail').fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
  await page.getByLabel('Organisation name').fill(person.organization);
  await page.getByLabel('First tenant slug').fill(person.tenant);
  await page.getByRole('radio', { name: new RegExp(`^${person.plan}`) }).check();
  await screenshot(page, `sign-up-${person.tenant}`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor();
}

async function verifyAndSignIn(
  page: Page,
  base: string,
  fixture: PlatformFixture,
  person: Person,
): Promise<void> {
  const token = await mailToken(fixture, person.email, '/console/verify-email');
  await page.goto(`${base}/console/verify-email?token=${token}`);
  await page.getByRole('heading', { name: 'Your e-mail address is verified' }).waitFor();
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('E-mail').fill(person.email);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your organisations' }).waitFor();
}

function organizationRegion(page: Page, displayName: string): Locator {
  return page.getByRole('region', { name: displayName, exact: true });
}

describe.skipIf(!chromiumInstalled)('the web console in Chromium', () => {
  let fixture: PlatformFixture;
  let base: string;
  let browser: Browser;
  let aliceContext: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  /** Undone newest first, whatever beforeAll got to. */
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    // Builds console/dist when it is missing or older than its sources (~1 s).
    await promisify(execFile)(process.execPath, [BUILD_MAIN, '--if-stale'], {
      cwd: path.dirname(BUILD_MAIN),
    });
    fixture = await startPlatformFixture();
    cleanups.push(() => fixture.close());
    base = fixture.platform.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    cleanups.push(() => browser.close());
    aliceContext = await browser.newContext();
    await aliceContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await aliceContext.newPage();
    watchForProblems(page, problems);
  }, 180_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('checks the sign-up form in the browser before sending it', async () => {
    await page.goto(`${base}/console/sign-up`);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Enter your e-mail address.').waitFor();
    const email = page.getByLabel('Work e-mail');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    // The first field in error takes focus.
    expect(await page.evaluate('document.activeElement?.id')).toBe(
      await page.getByLabel('Your name').getAttribute('id'),
    );
    await page.getByLabel('Password', { exact: true }).fill('too short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Use at least 12 characters', { exact: false }).waitFor();
    await screenshot(page, 'sign-up-validation');
  });

  it('signs up, confirms the address from the mail and signs in', async () => {
    await signUp(page, base, alice);
    await verifyAndSignIn(page, base, fixture, alice);
    const organization = organizationRegion(page, alice.organization);
    await organization.waitFor();
    expect(await organization.getByText('Owner').first().isVisible()).toBe(true);
  });

  it('shows the first tenant reach Ready, with its conditions and gateway', async () => {
    const tenant = page.getByRole('article', { name: alice.organization });
    const phase = tenant.locator('.tenant-phase');
    await phase.filter({ hasText: /Ready$/ }).waitFor({ timeout: 90_000 });
    // Every component reports its condition; the GPU pool is not on a Business plan.
    const conditions = tenant.getByRole('list', { name: `Conditions of ${alice.tenant}` });
    for (const type of ['NamespaceReady', 'DatabaseReady', 'ServicesReady']) {
      expect(await conditions.getByText(type).isVisible()).toBe(true);
    }
    expect(await tenant.getByText(`/t/${alice.tenant}`).first().isVisible()).toBe(true);
  });

  it('creates a second tenant and polls its phase until it is Ready', async () => {
    const organization = organizationRegion(page, alice.organization);
    await organization.getByRole('button', { name: 'New tenant' }).click();
    const form = organization.getByRole('form', { name: 'Create a tenant' });
    await form.getByLabel('Tenant name').fill('Acme Staging');
    expect(await form.getByLabel('Tenant slug').inputValue()).toBe('acme-staging');
    await form.getByRole('radio', { name: /^Starter/ }).check();
    let queries = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/graphql') && request.postData()?.includes('Organizations')) {
        queries += 1;
      }
    });
    await form.getByRole('button', { name: 'Create tenant' }).click();
    const tenant = page.getByRole('article', { name: 'Acme Staging' });
    const phase = tenant.locator('.tenant-phase');
    await phase.waitFor();
    expect(await phase.textContent()).not.toMatch(/Ready$/);
    await screenshot(page, 'dashboard-provisioning');
    await phase.filter({ hasText: /Ready$/ }).waitFor({ timeout: 90_000 });
    // Reached by polling (every 2 s), not by a reload: more than the one query after creating.
    expect(queries).toBeGreaterThan(1);
    // Deleting asks first; keeping it closes the question and deletes nothing.
    await tenant.getByRole('button', { name: 'Delete…' }).click();
    await tenant.getByRole('button', { name: 'Delete acme-staging and its data' }).waitFor();
    await tenant.getByRole('button', { name: 'Keep it' }).click();
    await tenant.getByRole('button', { name: 'Delete…' }).waitFor();
    expect(await phase.textContent()).toMatch(/Ready$/);
  });

  it('keeps the session cookie out of reach of scripts', async () => {
    const cookies = await aliceContext.cookies(base);
    const session = cookies.find((cookie) => cookie.name === 'citadel_console');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Lax');
    expect(await page.evaluate('document.cookie')).not.toContain('citadel_console');
  });

  it('creates an API key, shows it once and lets it be copied', async () => {
    const tenant = page.getByRole('article', { name: alice.organization });
    await tenant.getByRole('button', { name: 'Create API key' }).click();
    await tenant.getByLabel('Key name').fill('CI pipeline');
    await tenant.getByRole('button', { name: 'Create key' }).click();
    const shown = tenant.getByTestId('issued-api-key');
    await shown.waitFor();
    const key = (await shown.textContent()) ?? '';
    expect(key).toMatch(/^ctd_live_/);

    await tenant.getByRole('button', { name: 'Copy key' }).click();
    await tenant.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(key);
    await screenshot(page, 'api-key-shown-once');

    // The key is real: the tenant's gateway takes it (and refuses a made-up one).
    const search = `${base}/t/${alice.tenant}/library/v1/search?q=hello`;
    const accepted = await fetch(search, { headers: { authorization: `Bearer ${key}` } });
    expect(accepted.status).not.toBe(401);
    const refused = await fetch(search, { headers: { authorization: 'Bearer ctd_live_nope' } });
    expect(refused.status).toBe(401);

    await tenant.getByRole('button', { name: 'Done, I have stored it' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(key);
  });

  it('invites a colleague as a member, then signs out', async () => {
    const invite = organizationRegion(page, alice.organization).getByRole('form', {
      name: 'Invite a member',
    });
    await invite.getByLabel('E-mail').fill(bob.email);
    await invite.getByLabel('Role').selectOption('MEMBER');
    await invite.getByRole('button', { name: 'Send invitation' }).click();
    await invite.getByText(`Invitation sent to ${bob.email}.`).waitFor();
    await page
      .getByRole('list', { name: `Pending invitations of ${alice.organization}` })
      .getByText(bob.email)
      .waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Citadel' }).waitFor();
    expect((await page.request.get(`${base}/auth/session`)).status()).toBe(401);
    // The dashboard is no longer reachable.
    await page.goto(`${base}/console/`);
    await page.getByRole('heading', { name: 'Sign in to Citadel' }).waitFor();
  });

  it('lets the colleague accept and see the organisation as a member, without admin controls', async () => {
    const bobContext = await browser.newContext();
    try {
      const bobPage = await bobContext.newPage();
      watchForProblems(bobPage, problems);
      await signUp(bobPage, base, bob);
      await verifyAndSignIn(bobPage, base, fixture, bob);

      const token = await mailToken(fixture, bob.email, '/console/accept-invitation');
      await bobPage.goto(`${base}/console/accept-invitation?token=${token}`);
      await bobPage.getByRole('button', { name: 'Accept invitation' }).click();
      await bobPage.getByText(`You joined ${alice.organization}.`).waitFor();

      const acme = organizationRegion(bobPage, alice.organization);
      await acme.waitFor();
      expect(await acme.getByText(/Your role:\s*Member/).isVisible()).toBe(true);
      expect(await acme.getByRole('form', { name: 'Invite a member' }).count()).toBe(0);
      expect(await acme.getByRole('button', { name: 'Create API key' }).count()).toBe(0);
      expect(await acme.getByRole('combobox', { name: /^Role of/ }).count()).toBe(0);
      expect(await acme.getByRole('cell', { name: alice.email }).isVisible()).toBe(true);
      // In his own organisation he is the owner, and the controls are there.
      await screenshot(bobPage, 'dashboard-as-member');
      const globex = organizationRegion(bobPage, bob.organization);
      expect(await globex.getByRole('form', { name: 'Invite a member' }).count()).toBe(1);
    } finally {
      await bobContext.close();
    }
  });

  it('resets a forgotten password from the mailed link', async () => {
    await page.goto(`${base}/console/sign-in`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('E-mail').fill(alice.email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor();
    const token = await mailToken(fixture, alice.email, '/console/reset-password');
    await page.goto(`${base}/console/reset-password?token=${token}`);
    const newPassword = 'a brand new passphrase for alice';
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Repeat the new password').fill(`${newPassword}!`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('The two passwords differ.').waitFor();
    await page.getByLabel('Repeat the new password').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Your password is changed' }).waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('E-mail').fill(alice.email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The e-mail address or password is wrong.').waitFor();
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your organisations' }).waitFor();
  });

  it('raised no CSP violation or script error on any page', () => {
    expect(problems).toEqual([]);
  });
});
