import { runCitadelCli, type CliRun } from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';

let fixture: PlatformFixture;

beforeAll(async () => {
  fixture = await startPlatformFixture();
});

afterAll(async () => {
  await fixture.close();
});

/** Runs `citadel …` as a user would (a real process) against the real platform. */
function citadel(args: string[], token = ADMIN_TOKEN): Promise<CliRun> {
  return runCitadelCli(args, { url: fixture.platform.url, token });
}

describe('citadel CLI against the running platform', () => {
  it('creates a tenant and waits for Ready, showing progress', async () => {
    const run = await citadel([
      'tenants',
      'create',
      'cli-co',
      '--plan',
      'starter',
      '--wait',
      '--output',
      'json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const tenant = JSON.parse(run.stdout) as { slug: string; status: { phase: string } };
    expect(tenant).toMatchObject({ slug: 'cli-co', status: { phase: 'Ready' } });
  });

  it('lists and gets tenants in text and JSON', async () => {
    const list = await citadel(['tenants', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/SLUG\s+PLAN\s+PHASE/);
    expect(list.stdout).toMatch(/cli-co\s+starter\s+Ready/);
    const get = await citadel(['tenants', 'get', 'cli-co', '--output', 'json']);
    expect(JSON.parse(get.stdout)).toMatchObject({ slug: 'cli-co', plan: 'starter' });
  });

  it('suspends and resumes with --wait', async () => {
    const suspend = await citadel(['tenants', 'suspend', 'cli-co', '--wait', '--output', 'json']);
    expect(suspend.code, suspend.stderr).toBe(0);
    expect(JSON.parse(suspend.stdout)).toMatchObject({ status: { phase: 'Suspended' } });
    const resume = await citadel(['tenants', 'resume', 'cli-co', '--wait', '--output', 'json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout)).toMatchObject({ status: { phase: 'Ready' } });
  });

  it('exits with the documented codes on errors', async () => {
    expect((await citadel(['tenants', 'create', 'cli-co', '--plan', 'starter'])).code).toBe(4);
    const invalid = await citadel(['tenants', 'create', 'Bad_Slug', '--plan', 'starter']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/Invalid tenant slug/);
    expect((await citadel(['tenants', 'get', 'nobody-here'])).code).toBe(3);
    expect((await citadel(['tenants', 'list'], 'wrong-token-0123456789')).code).toBe(5);
  });

  it('deletes with --wait until the tenant is gone', async () => {
    const run = await citadel(['tenants', 'delete', 'cli-co', '--yes', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect((await citadel(['tenants', 'get', 'cli-co'])).code).toBe(3);
  });
});
