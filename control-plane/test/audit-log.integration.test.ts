import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { queryRows, runCitadelCli, waitFor, type CliRun } from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditVerificationReport } from '../src/audit/audit-chain-verifier.ts';
import {
  checkpointStatement,
  hashAuditEntry,
  type AuditCheckpoint,
  type AuditEntry,
} from '../src/audit/audit-entry.ts';
import { createAuditLog, type AuditLog } from '../src/audit/audit-log.ts';
import { loadAuditSigner, type AuditPublicJwk } from '../src/audit/audit-signer.ts';
import { createPrismaClient, type PrismaClient } from '../src/adapters/prisma-client.ts';
import { createLogger } from '../src/logger.ts';
import { ADMIN_TOKEN, startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';

/** `items[index]`, which must exist. */
function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no item at ${index}`);
  return item;
}

let fixture: PlatformFixture;
/** Writers beside the platform's own, on their own connections: a second and third "process". */
let prismaClients: PrismaClient[];
let auditLog: AuditLog;
let otherAuditLog: AuditLog;

beforeAll(async () => {
  fixture = await startPlatformFixture();
  prismaClients = [
    createPrismaClient(fixture.databaseUrl),
    createPrismaClient(fixture.databaseUrl),
  ];
  // The platform created the signing key at start; these load the same one.
  const signer = await loadAuditSigner(fixture.dataDir);
  const logger = createLogger('silent');
  const [first, second] = prismaClients as [PrismaClient, PrismaClient];
  auditLog = createAuditLog({ prisma: first, signer, logger, checkpointEvery: 10 });
  otherAuditLog = createAuditLog({ prisma: second, signer, logger, checkpointEvery: 10 });
});

afterAll(async () => {
  await Promise.all(prismaClients.map((client) => client.$disconnect()));
  await fixture.close();
});

interface AuditPageBody {
  items: AuditEntry[];
  nextCursor?: string;
}

async function createTenant(slug: string): Promise<string> {
  const response = await fixture.api('/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { metadata: { uid: string } }).metadata.uid;
}

/** A tenant whose log holds `tenant.created` and then `count` more entries. */
async function tenantWithEntries(slug: string, count: number): Promise<string> {
  const tenantId = await createTenant(slug);
  for (let index = 0; index < count; index += 1) {
    await auditLog.append(tenantId, {
      actor: { type: 'system', id: 'test' },
      action: 'test.event',
      target: { type: 'thing', id: `thing-${index}` },
      outcome: 'success',
      details: { index },
    });
  }
  return tenantId;
}

async function verifyOverApi(slug: string): Promise<AuditVerificationReport> {
  const response = await fixture.api(`/api/v1/tenants/${slug}/audit/verify`, { method: 'POST' });
  expect(response.status).toBe(200);
  return (await response.json()) as AuditVerificationReport;
}

function problemsOf(report: AuditVerificationReport) {
  return report.problems.map(({ sequence, kind }) => ({ sequence, kind }));
}

async function sql(text: string, values: unknown[] = []): Promise<void> {
  await queryRows(fixture.databaseUrl, text, values);
}

async function listAll(slug: string, query = ''): Promise<AuditEntry[]> {
  const items: AuditEntry[] = [];
  let cursor: string | undefined;
  do {
    const separator = query === '' ? '' : '&';
    const page = `?${query}${cursor === undefined ? '' : `${separator}cursor=${cursor}`}`;
    const response = await fixture.api(`/api/v1/tenants/${slug}/audit${page}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as AuditPageBody;
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor !== undefined);
  return items;
}

describe('audit log: recording the platform’s admin actions', () => {
  it('records tenant and API key actions and gateway denials, newest first', async () => {
    const tenantId = await createTenant('audit-acme');
    const issued = await fixture.api('/api/v1/tenants/audit-acme/api-keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'ci' }),
    });
    const key = (await issued.json()) as { id: string; prefix: string };
    await fixture.api(`/api/v1/tenants/audit-acme/api-keys/${key.id}`, { method: 'DELETE' });
    await fixture.api('/api/v1/tenants/audit-acme/suspend', { method: 'POST' });
    await fixture.api('/api/v1/tenants/audit-acme/resume', { method: 'POST' });
    const denied = await fetch(`${fixture.platform.url}/t/audit-acme/search/v1/query`, {
      headers: { authorization: 'Bearer ctd_live_not-a-real-key' },
    });
    expect(denied.status).toBe(401);

    const items = await waitFor(
      async () => {
        const page = await listAll('audit-acme');
        return page.length === 6 ? page : undefined;
      },
      { timeoutMs: 10_000, description: 'the gateway denial to be recorded' },
    );
    expect(items.map((item) => item.action)).toEqual([
      'gateway.authentication-denied',
      'tenant.resumed',
      'tenant.suspended',
      'api-key.revoked',
      'api-key.issued',
      'tenant.created',
    ]);
    expect(items.map((item) => item.sequence)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(items[5]).toMatchObject({
      tenantId,
      actor: { type: 'operator', ip: '127.0.0.1' },
      target: { type: 'tenant', id: tenantId },
      outcome: 'success',
      details: { slug: 'audit-acme' },
    });
    expect(items[4]).toMatchObject({
      target: { type: 'api-key', id: key.id },
      details: { name: 'ci', prefix: key.prefix, scopes: ['*'] },
    });
    expect(items[0]).toMatchObject({
      outcome: 'denied',
      actor: { type: 'user', ip: '127.0.0.1' },
      details: { reason: 'invalid-credentials', method: 'GET', path: '/search/v1/query' },
    });
    expect(JSON.stringify(items)).not.toContain('not-a-real-key');
    expect(await verifyOverApi('audit-acme')).toMatchObject({ ok: true, entries: 6 });
  });

  it('records a deletion request', async () => {
    await createTenant('audit-doomed');
    const response = await fixture.api('/api/v1/tenants/audit-doomed', { method: 'DELETE' });
    expect(response.status).toBe(202);
    // The tenant's log goes with the tenant once the reconciler has removed it (foreign key,
    // ON DELETE CASCADE), which may already have happened: read the rows right away.
    const rows = await queryRows<{ action: string }>(
      fixture.databaseUrl,
      `SELECT e.action FROM audit_entries e JOIN tenants t ON t.id = e.tenant_id
       WHERE t.slug = 'audit-doomed' ORDER BY e.sequence`,
    );
    if (rows.length > 0) {
      expect(rows.map((row) => row.action)).toEqual([
        'tenant.created',
        'tenant.deletion-requested',
      ]);
    }
  });
});

describe('audit log: checkpoints and public keys', () => {
  it('signs a checkpoint on demand that verifies with the published key alone', async () => {
    const tenantId = await tenantWithEntries('audit-signed', 4);
    const response = await fixture.api('/api/v1/tenants/audit-signed/audit/checkpoints', {
      method: 'POST',
    });
    expect(response.status).toBe(201);
    const checkpoint = (await response.json()) as AuditCheckpoint;
    expect(checkpoint).toMatchObject({ tenantId, sequence: 5 });

    const keys = await fetch(`${fixture.platform.url}/api/v1/audit/signing-keys`);
    expect(keys.status).toBe(200);
    const { keys: jwks } = (await keys.json()) as { keys: AuditPublicJwk[] };
    const jwk = jwks.find((candidate) => candidate.kid === checkpoint.keyId);
    expect(jwk).toBeDefined();
    const publicKey = createPublicKey({ key: { ...jwk }, format: 'jwk' });
    const statement = checkpointStatement(tenantId, checkpoint.sequence, checkpoint.hash);
    const signature = Buffer.from(checkpoint.signature, 'base64');
    expect(verifySignature(null, Buffer.from(statement), publicKey, signature)).toBe(true);

    expect(await verifyOverApi('audit-signed')).toMatchObject({ ok: true, checkpoints: 1 });
  });

  it('writes a checkpoint every N entries by itself', async () => {
    const tenantId = await tenantWithEntries('audit-periodic', 24);
    const rows = await queryRows<{ sequence: string }>(
      fixture.databaseUrl,
      'SELECT sequence FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY sequence',
      [tenantId],
    );
    expect(rows.map((row) => Number(row.sequence))).toEqual([10, 20]);
  });

  it('answers 409 for a checkpoint of an empty log, and 404 for an unknown tenant', async () => {
    const tenantId = await createTenant('audit-empty');
    await sql('DELETE FROM audit_entries WHERE tenant_id = $1', [tenantId]);
    const empty = await fixture.api('/api/v1/tenants/audit-empty/audit/checkpoints', {
      method: 'POST',
    });
    expect(empty.status).toBe(409);
    const unknown = await fixture.api('/api/v1/tenants/nobody-here/audit');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });
});

describe('audit log: tamper detection', () => {
  it('detects a modified entry', async () => {
    const tenantId = await tenantWithEntries('audit-modified', 6);
    await sql(
      `UPDATE audit_entries SET details = '{"index": 99}' WHERE tenant_id = $1 AND sequence = 4`,
      [tenantId],
    );
    const report = await verifyOverApi('audit-modified');
    expect(report.ok).toBe(false);
    expect(problemsOf(report)).toEqual([{ sequence: 4, kind: 'modified' }]);
  });

  it('detects a deleted entry', async () => {
    const tenantId = await tenantWithEntries('audit-deleted', 6);
    await sql('DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence = 5', [tenantId]);
    expect(problemsOf(await verifyOverApi('audit-deleted'))).toEqual([
      { sequence: 5, kind: 'missing' },
    ]);
  });

  it('detects swapped entries', async () => {
    const tenantId = await tenantWithEntries('audit-swapped', 6);
    for (const [from, to] of [
      [3, -3],
      [4, 3],
      [-3, 4],
    ]) {
      await sql('UPDATE audit_entries SET sequence = $3 WHERE tenant_id = $1 AND sequence = $2', [
        tenantId,
        from,
        to,
      ]);
    }
    expect(problemsOf(await verifyOverApi('audit-swapped'))).toEqual([
      { sequence: 3, kind: 'reordered' },
      { sequence: 4, kind: 'reordered' },
    ]);
  });

  it('detects a forged checkpoint signature', async () => {
    const tenantId = await tenantWithEntries('audit-forged', 3);
    await fixture.api('/api/v1/tenants/audit-forged/audit/checkpoints', { method: 'POST' });
    await sql('UPDATE audit_checkpoints SET signature = $2 WHERE tenant_id = $1 AND sequence = 4', [
      tenantId,
      Buffer.alloc(64, 7).toString('base64'),
    ]);
    expect(problemsOf(await verifyOverApi('audit-forged'))).toEqual([
      { sequence: 4, kind: 'bad-signature' },
    ]);
  });

  it('detects entries cut off below the last checkpoint', async () => {
    const tenantId = await tenantWithEntries('audit-truncated', 9);
    // Entry 10 brought the automatic checkpoint; delete the tail it vouches for.
    await sql('DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence >= 9', [tenantId]);
    expect(problemsOf(await verifyOverApi('audit-truncated'))).toEqual([
      { sequence: 10, kind: 'truncated' },
    ]);
  });

  it('detects an entry copied from another tenant: the tenant id is in the hash', async () => {
    const source = await tenantWithEntries('audit-source', 2);
    const target = await tenantWithEntries('audit-target', 2);
    await sql('DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence = 3', [target]);
    await sql(
      `INSERT INTO audit_entries
       SELECT $2, sequence, occurred_at, actor, action, target, outcome, details, previous_hash, hash
       FROM audit_entries WHERE tenant_id = $1 AND sequence = 3`,
      [source, target],
    );
    expect(problemsOf(await verifyOverApi('audit-target'))).toEqual([
      { sequence: 3, kind: 'modified' },
    ]);
  });
});

describe('audit log: reading', () => {
  it('exports every entry as NDJSON, oldest first, verifiable offline', async () => {
    await tenantWithEntries('audit-export', 12);
    const response = await fixture.api('/api/v1/tenants/audit-export/audit/export');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await response.text();
    expect(text.endsWith('\n')).toBe(true);
    const entries = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntry);
    expect(entries.map((entry) => entry.sequence)).toEqual(
      Array.from({ length: 13 }, (_, index) => index + 1),
    );
    for (const [index, entry] of entries.entries()) {
      const { hash, ...content } = entry;
      expect(hashAuditEntry(content)).toBe(hash);
      if (index > 0) expect(entry.previousHash).toBe(at(entries, index - 1).hash);
    }
  });

  it('pages through entries newest first with cursors and filters', async () => {
    await tenantWithEntries('audit-pages', 24);
    const first = await fixture.api('/api/v1/tenants/audit-pages/audit?limit=10');
    const firstPage = (await first.json()) as AuditPageBody;
    expect(firstPage.items.map((item) => item.sequence)).toEqual([
      25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
    ]);
    expect(firstPage.nextCursor).toBeDefined();
    const all = await listAll('audit-pages', 'limit=10');
    expect(all.map((item) => item.sequence)).toEqual(
      Array.from({ length: 25 }, (_, index) => 25 - index),
    );

    const created = await listAll('audit-pages', 'action=tenant.created');
    expect(created.map((item) => item.sequence)).toEqual([1]);
    const middle = at(all, 12);
    expect(middle.sequence).toBe(13);
    const since = await listAll(
      'audit-pages',
      `since=${encodeURIComponent(middle.occurredAt)}&limit=7`,
    );
    expect(since.every((item) => item.occurredAt >= middle.occurredAt)).toBe(true);
    expect(since.map((item) => item.sequence)).toContain(13);
    const until = await listAll('audit-pages', `until=${encodeURIComponent(middle.occurredAt)}`);
    expect(until.every((item) => item.occurredAt < middle.occurredAt)).toBe(true);
  });

  it('answers RFC 7807 problems for bad query parameters', async () => {
    await createTenant('audit-queries');
    for (const query of [
      'limit=0',
      'limit=abc',
      'since=yesterday',
      'until=2026-01-01T00:00:00Z&since=2026-02-01T00:00:00Z',
      'colour=blue',
      'cursor=bm90LWEtbnVtYmVy',
    ]) {
      const response = await fixture.api(`/api/v1/tenants/audit-queries/audit?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });

  it('never shows one tenant’s entries in another’s log', async () => {
    const first = await tenantWithEntries('audit-tenant-a', 5);
    const second = await tenantWithEntries('audit-tenant-b', 2);
    const firstItems = await listAll('audit-tenant-a');
    const secondItems = await listAll('audit-tenant-b');
    expect(firstItems.every((item) => item.tenantId === first)).toBe(true);
    expect(secondItems.every((item) => item.tenantId === second)).toBe(true);
    expect(secondItems).toHaveLength(3);
    const exported = await (
      await fixture.api('/api/v1/tenants/audit-tenant-b/audit/export')
    ).text();
    expect(exported).not.toContain(first);
  });
});

describe('audit log: concurrency', () => {
  it('keeps one gap-free, valid chain under 50 concurrent appends from two writers', async () => {
    const tenantId = await createTenant('audit-busy');
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        (index % 2 === 0 ? auditLog : otherAuditLog).append(tenantId, {
          actor: { type: 'system' },
          action: 'test.concurrent',
          target: { type: 'thing', id: String(index) },
          outcome: 'success',
          details: { index },
        }),
      ),
    );
    const report = await verifyOverApi('audit-busy');
    expect(report).toMatchObject({ ok: true, entries: 51, lastSequence: 51, checkpoints: 5 });
  });
});

function citadel(args: string[]): Promise<CliRun> {
  return runCitadelCli(args, { url: fixture.platform.url, token: ADMIN_TOKEN });
}

describe('citadel audit', () => {
  it('verifies: exit 0 when intact, 9 with each problem when tampered', async () => {
    const tenantId = await tenantWithEntries('audit-cli', 5);
    const intact = await citadel(['audit', 'verify', 'audit-cli']);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/audit log of audit-cli: ok \(6 entries, 0 checkpoints\)/);

    await sql(
      `UPDATE audit_entries SET action = 'nothing.happened' WHERE tenant_id = $1 AND sequence = 2`,
      [tenantId],
    );
    await sql('DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence = 4', [tenantId]);
    const tampered = await citadel(['audit', 'verify', 'audit-cli']);
    expect(tampered.code).toBe(9);
    expect(tampered.stdout).toMatch(/TAMPERED/);
    expect(tampered.stdout).toMatch(/#2\s+modified/);
    expect(tampered.stdout).toMatch(/#4\s+missing/);
    expect(tampered.stderr).toMatch(/Audit log tampered/);

    const json = await citadel(['audit', 'verify', 'audit-cli', '--output', 'json']);
    expect(json.code).toBe(9);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      problems: [
        { sequence: 2, kind: 'modified' },
        { sequence: 4, kind: 'missing' },
      ],
    });
    expect((await citadel(['audit', 'verify', 'nobody-here'])).code).toBe(3);
  });

  it('exports JSON lines to stdout', async () => {
    await tenantWithEntries('audit-cli-export', 3);
    const run = await citadel(['audit', 'export', 'audit-cli-export']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as AuditEntry).sequence)).toEqual([1, 2, 3, 4]);
    const help = await citadel(['--help']);
    expect(help.stdout).toMatch(/9\s+audit log tampered/);
  });
});
