import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCitadel } from '../src/citadel-program.ts';
import { EXIT_CODES } from '../src/exit-codes.ts';
import type { TenantPage, TenantView } from '../src/platform-client.ts';
import { captureStream } from './captured-stream.ts';
import { startStandInPlatform, type StandInPlatform } from './stand-in-platform.ts';

// These tests drive the real CLI in-process against a STAND-IN for the platform's REST
// API (see stand-in-platform.ts): the control plane is being written concurrently, and an
// end-to-end test against it comes later.

const TOKEN = 'test-operator-token';
const execFileAsync = promisify(execFile);
const launcher = fileURLToPath(new URL('../bin/citadel.js', import.meta.url));
// The project's pinned Node 24 (what `npx citadel` runs on), even when vitest was started
// by another Node.
const pinnedNode = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
const projectNode = existsSync(pinnedNode) ? pinnedNode : process.execPath;

interface RunOptions {
  env?: Record<string, string | undefined>;
  stderrIsTTY?: boolean;
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

let platform: StandInPlatform;

async function citadel(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const stdout = captureStream();
  const stderr = captureStream(options.stderrIsTTY);
  const env = { CITADEL_URL: platform.url, CITADEL_ADMIN_TOKEN: TOKEN, ...options.env };
  const exitCode = await runCitadel({ stdout, stderr, env, fetch: globalThis.fetch }, args);
  return { exitCode, stdout: stdout.text, stderr: stderr.text };
}

function tenantPolls(slug: string): number {
  return platform.requests.filter(
    (request) => request.method === 'GET' && request.url === `/api/v1/tenants/${slug}`,
  ).length;
}

describe('citadel tenants (against a stand-in platform API)', () => {
  beforeEach(async () => {
    platform = await startStandInPlatform({
      token: TOKEN,
      scenarios: { doomed: 'fail', stuck: 'stall' },
    });
  });

  afterEach(async () => {
    await platform.close();
  });

  it('creates a tenant and, with --wait, follows it to Ready across several polls', async () => {
    const result = await citadel(['tenants', 'create', 'acme', '--plan', 'business', '--wait']);

    expect(result.exitCode).toBe(EXIT_CODES.success);
    expect(result.stdout).toContain('tenant acme is Ready');
    expect(result.stdout).toContain('gateway');
    expect(tenantPolls('acme')).toBeGreaterThanOrEqual(5);
    // Not a terminal: appended lines, each condition shown as it changes.
    expect(result.stderr).toContain('acme: Pending (0/0 conditions True)');
    expect(result.stderr).toMatch(/… NamespaceReady\s+Pending/);
    expect(result.stderr).toMatch(/✓ ServicesReady\s+Provisioned/);
    expect(result.stderr).toMatch(/✗ GpuPoolReady\s+NoGpuOnHost/);
    expect(result.stderr).toContain('acme: Ready (5/6 conditions True)');
    expect(result.stderr).not.toContain('\u001b[');

    const create = platform.requests.find((request) => request.method === 'POST');
    expect(create?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(create?.contentType).toBe('application/json');
    expect(JSON.parse(create?.body ?? '')).toEqual({
      slug: 'acme',
      displayName: 'acme',
      plan: 'business',
    });
  });

  it('redraws the progress in place on a terminal', async () => {
    const result = await citadel(['tenants', 'create', 'acme', '--plan', 'starter', '--wait'], {
      stderrIsTTY: true,
      env: { NO_COLOR: '1' },
    });

    expect(result.exitCode).toBe(EXIT_CODES.success);
    // Each frame after the first moves the cursor back over the previous one and clears it.
    // eslint-disable-next-line no-control-regex -- the escape sequences are what is tested
    expect(result.stderr).toMatch(/\u001b\[\d+F\u001b\[0J/);
    const lastFrame = result.stderr.split('\u001b[0J').at(-1) ?? '';
    expect(lastFrame).toContain('acme: Ready (5/6 conditions True)');
    expect(lastFrame.trim().split('\n')).toHaveLength(7);
  });

  it('prints exactly the API object as one JSON document with --output json', async () => {
    const accepted = await citadel([
      'tenants',
      'create',
      'acme',
      '--plan',
      'starter',
      '-o',
      'json',
    ]);
    expect(accepted.exitCode).toBe(EXIT_CODES.success);
    const tenant = JSON.parse(accepted.stdout) as TenantView;
    expect(tenant).toMatchObject({
      apiVersion: 'citadel.azora.dev/v1alpha1',
      kind: 'Tenant',
      slug: 'acme',
      status: { phase: 'Pending' },
    });

    const waited = await citadel(['tenants', 'get', 'acme', '--output', 'json']);
    expect((JSON.parse(waited.stdout) as TenantView).slug).toBe('acme');

    const created = await citadel([
      '--output',
      'json',
      'tenants',
      'create',
      'beta',
      '--plan',
      'starter',
      '--wait',
    ]);
    expect(created.exitCode).toBe(EXIT_CODES.success);
    expect((JSON.parse(created.stdout) as TenantView).status.phase).toBe('Ready');
    // Machine output keeps stderr quiet when no one watches it.
    expect(created.stderr).toBe('');
  });

  it('shows a tenant summary with conditions and endpoints', async () => {
    platform.seedReadyTenant('acme', 'enterprise');
    const result = await citadel(['tenants', 'get', 'acme', '--no-color']);

    expect(result.exitCode).toBe(EXIT_CODES.success);
    expect(result.stdout).toMatch(/Phase:\s+Ready/);
    expect(result.stdout).toMatch(/Plan:\s+enterprise/);
    expect(result.stdout).toContain('Conditions (5/6 True):');
    expect(result.stdout).toMatch(/✓ NamespaceReady\s+Provisioned\s+done/);
    expect(result.stdout).toMatch(/gateway\s+http:\/\/localhost:8080\/t\/acme/);
  });

  it('exits 3 when the tenant does not exist', async () => {
    const result = await citadel(['tenants', 'get', 'ghost']);
    expect(result.exitCode).toBe(EXIT_CODES.notFound);
    expect(result.stderr).toContain('error: Tenant not found: no tenant "ghost"');
    expect(result.stdout).toBe('');
  });

  it('exits 4 when the slug is taken', async () => {
    platform.seedReadyTenant('acme');
    const result = await citadel(['tenants', 'create', 'acme', '--plan', 'starter']);
    expect(result.exitCode).toBe(EXIT_CODES.conflict);
    expect(result.stderr).toContain('error: Conflict: tenant "acme" already exists');
  });

  it('exits 2 with the field errors of a 400 problem', async () => {
    const result = await citadel(['tenants', 'create', 'Bad_Slug', '--plan', 'platinum']);
    expect(result.exitCode).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain('error: Invalid request: the request body is invalid');
    expect(result.stderr).toContain('  - slug: must be a DNS-1123 label');
    expect(result.stderr).toContain('  - plan: unknown plan "platinum"');

    const json = await citadel([
      'tenants',
      'create',
      'Bad_Slug',
      '--plan',
      'starter',
      '-o',
      'json',
    ]);
    expect(json.exitCode).toBe(EXIT_CODES.usage);
    expect(json.stdout).toBe('');
    expect(JSON.parse(json.stderr)).toMatchObject({
      status: 400,
      title: 'Invalid request',
      errors: [{ path: 'slug' }],
    });
  });

  it('exits 2 on bad arguments without calling the platform', async () => {
    const missingPlan = await citadel(['tenants', 'create', 'acme']);
    expect(missingPlan.exitCode).toBe(EXIT_CODES.usage);
    expect(missingPlan.stderr).toContain("required option '--plan <plan>' not specified");

    const badLimit = await citadel(['tenants', 'list', '--limit', 'many']);
    expect(badLimit.exitCode).toBe(EXIT_CODES.usage);

    const badUrl = await citadel(['tenants', 'list', '--url', 'ftp://example']);
    expect(badUrl.exitCode).toBe(EXIT_CODES.usage);
    expect(platform.requests).toHaveLength(0);
  });

  it('exits 5 on a rejected or missing token, with a hint when none was given', async () => {
    const wrong = await citadel(['tenants', 'list', '--token', 'wrong']);
    expect(wrong.exitCode).toBe(EXIT_CODES.auth);
    expect(wrong.stderr).toContain('error: Unauthorized');
    expect(wrong.stderr).not.toContain('hint:');

    const missing = await citadel(['tenants', 'list'], { env: { CITADEL_ADMIN_TOKEN: undefined } });
    expect(missing.exitCode).toBe(EXIT_CODES.auth);
    expect(missing.stderr).toContain('hint: pass --token or set CITADEL_ADMIN_TOKEN');
    expect(platform.requests.at(-1)?.authorization).toBeUndefined();
  });

  it('exits 6 when --wait times out, printing the last state in JSON mode', async () => {
    const result = await citadel([
      'tenants',
      'create',
      'stuck',
      '--plan',
      'starter',
      '--wait',
      '--timeout',
      '0.8',
      '-o',
      'json',
    ]);
    expect(result.exitCode).toBe(EXIT_CODES.waitTimeout);
    expect((JSON.parse(result.stdout) as TenantView).status.phase).toBe('Provisioning');
    expect(JSON.parse(result.stderr)).toMatchObject({
      type: 'https://citadel.azora.dev/problems/cli/wait-timeout',
      title: 'Wait timed out',
    });
    expect(tenantPolls('stuck')).toBeGreaterThanOrEqual(2);
  });

  it('exits 7 when the tenant reaches Failed, naming the failing condition', async () => {
    const result = await citadel(['tenants', 'create', 'doomed', '--plan', 'starter', '--wait']);
    expect(result.exitCode).toBe(EXIT_CODES.tenantFailed);
    expect(result.stderr).toContain('error: Tenant failed: tenant doomed reached phase Failed');
    expect(result.stderr).toContain('DatabaseReady CreateFailed');
    expect(result.stderr).toMatch(/✗ DatabaseReady\s+CreateFailed/);
  });

  it('exits 8 when the platform is unreachable or unavailable', async () => {
    const closedUrl = platform.url;
    await platform.close();
    const refused = await citadel(['tenants', 'list'], { env: { CITADEL_URL: closedUrl } });
    expect(refused.exitCode).toBe(EXIT_CODES.unavailable);
    expect(refused.stderr).toContain('error: Platform unreachable');
    expect(refused.stderr).toContain('ECONNREFUSED');

    platform = await startStandInPlatform({ token: TOKEN, unavailable: true });
    const unavailable = await citadel(['tenants', 'get', 'acme']);
    expect(unavailable.exitCode).toBe(EXIT_CODES.unavailable);
    expect(unavailable.stderr).toContain('error: Service unavailable');
  });

  it('lists one page as a table, and every page with --all', async () => {
    for (const slug of ['echo', 'alpha', 'delta', 'bravo', 'charlie'])
      platform.seedReadyTenant(slug);

    const firstPage = await citadel(['tenants', 'list', '--limit', '2']);
    expect(firstPage.exitCode).toBe(EXIT_CODES.success);
    const lines = firstPage.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SLUG\s+PLAN\s+PHASE\s+READY\s+AGE$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
      ['alpha', 'starter', 'Ready', '5/6'],
      ['bravo', 'starter', 'Ready', '5/6'],
    ]);
    expect(firstPage.stderr).toContain('more tenants: --cursor');

    const all = await citadel(['tenants', 'list', '--limit', '2', '--all', '-o', 'json']);
    expect(all.exitCode).toBe(EXIT_CODES.success);
    const page = JSON.parse(all.stdout) as TenantPage;
    expect(page.items.map((tenant) => tenant.slug)).toEqual([
      'alpha',
      'bravo',
      'charlie',
      'delta',
      'echo',
    ]);
    expect(page.nextCursor).toBeUndefined();
    const listCalls = platform.requests.filter((request) =>
      request.url.startsWith('/api/v1/tenants?'),
    );
    expect(
      listCalls.map((request) => new URL(request.url, platform.url).searchParams.has('cursor')),
    ).toEqual([false, false, true, true]);
  });

  it('suspends and resumes with --wait, counting only a status of the current generation', async () => {
    platform.seedReadyTenant('acme');

    const suspended = await citadel(['tenants', 'suspend', 'acme', '--wait']);
    expect(suspended.exitCode).toBe(EXIT_CODES.success);
    expect(suspended.stdout).toContain('tenant acme is Suspended');
    // The first poll still reports the previous generation; the wait must not stop there.
    expect(tenantPolls('acme')).toBe(2);

    const resumed = await citadel(['tenants', 'resume', 'acme', '--wait']);
    expect(resumed.exitCode).toBe(EXIT_CODES.success);
    expect(resumed.stdout).toContain('tenant acme is Ready');
  });

  it('deletes with --yes --wait until the tenant is gone, and refuses without --yes', async () => {
    platform.seedReadyTenant('acme');

    const refused = await citadel(['tenants', 'delete', 'acme']);
    expect(refused.exitCode).toBe(EXIT_CODES.usage);
    expect(refused.stderr).toContain('pass --yes');

    const deleted = await citadel(['tenants', 'delete', 'acme', '--yes', '--wait']);
    expect(deleted.exitCode).toBe(EXIT_CODES.success);
    expect(deleted.stdout).toContain('tenant acme deleted');

    const after = await citadel(['tenants', 'get', 'acme']);
    expect(after.exitCode).toBe(EXIT_CODES.notFound);
  });

  it('documents the exit codes in --help', async () => {
    const result = await citadel(['--help']);
    expect(result.exitCode).toBe(EXIT_CODES.success);
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).toContain('6  --wait timed out');
    expect(result.stdout).toContain('8  platform unreachable');
  });
});

describe('bin/citadel.js launcher', () => {
  let server: StandInPlatform;

  afterAll(async () => {
    await server.close();
  });

  it('runs the CLI as a process and exits with its code', async () => {
    server = await startStandInPlatform({ token: TOKEN });
    server.seedReadyTenant('acme');
    const env = { ...process.env, CITADEL_URL: server.url, CITADEL_ADMIN_TOKEN: TOKEN };

    const { stdout } = await execFileAsync(
      projectNode,
      [launcher, 'tenants', 'get', 'acme', '-o', 'json'],
      {
        env,
      },
    );
    expect((JSON.parse(stdout) as TenantView).slug).toBe('acme');

    const missing = execFileAsync(projectNode, [launcher, 'tenants', 'get', 'ghost'], { env });
    await expect(missing).rejects.toMatchObject({ code: EXIT_CODES.notFound });
  });

  it('explains what to do on a Node that cannot strip types', async () => {
    const run = execFileAsync(projectNode, ['--no-experimental-strip-types', launcher, '--help']);
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        "run it through npx/npm so the project's Node 24 is used",
      ) as unknown,
    });
  });
});
