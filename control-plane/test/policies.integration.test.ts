import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '@citadel/test-utils';
import { startPlatformFixture, type PlatformFixture } from './platform-fixture.ts';

let fixture: PlatformFixture;
const tenantIds: Record<string, string> = {};

beforeAll(async () => {
  fixture = await startPlatformFixture();
  for (const slug of ['policy-alpha', 'policy-beta', 'policy-audited']) {
    const response = await fixture.api('/api/v1/tenants', {
      method: 'POST',
      body: JSON.stringify({ slug, displayName: slug, plan: 'starter' }),
    });
    expect(response.status).toBe(202);
    tenantIds[slug] = ((await response.json()) as { metadata: { uid: string } }).metadata.uid;
  }
});

afterAll(async () => {
  await fixture.close();
});

interface PolicyView {
  id: string;
  name: string;
  text: string;
  version: number;
}

interface Decision {
  decision: 'allow' | 'deny';
  decisionId: string;
  determiningPolicies: string[];
  errors: string[];
  inputDigest: string;
}

function policiesPath(slug: string, rest = ''): string {
  return `/api/v1/tenants/${slug}/policies${rest}`;
}

function send(method: string, path: string, body?: unknown): Promise<Response> {
  return fixture.api(path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function storedPolicyCount(): Promise<number> {
  const rows = await queryRows<{ count: string }>(
    fixture.databaseUrl,
    'SELECT count(*) FROM tenant_policies',
  );
  return Number(rows[0]?.count);
}

/** A viewer of `slug` asking to write a document of `documentTenant`. */
function viewerWritesDocument(slug: string, documentTenant = slug) {
  const tenant = (id: string) => ({ __entity: { type: 'Citadel::Tenant', id } });
  return {
    principal: { type: 'Citadel::User', id: 'vera' },
    action: { type: 'Citadel::Action', id: 'document.write' },
    resource: { type: 'Citadel::Document', id: 'handbook' },
    context: { mfa: false },
    entities: [
      {
        uid: { type: 'Citadel::User', id: 'vera' },
        attrs: { tenant: tenant(tenantIds[slug] ?? '') },
        parents: [{ type: 'Citadel::Role', id: 'viewer' }],
      },
      {
        uid: { type: 'Citadel::Document', id: 'handbook' },
        attrs: { tenant: tenant(tenantIds[documentTenant] ?? '') },
        parents: [],
      },
    ],
  };
}

async function evaluate(slug: string, request: unknown): Promise<Decision> {
  const response = await send('POST', policiesPath(slug, '/evaluate'), request);
  expect(response.status).toBe(200);
  return (await response.json()) as Decision;
}

const VIEWERS_WRITE = `// Viewers may edit documents in this tenant.
permit (
  principal in Citadel::Role::"viewer",
  action == Citadel::Action::"document.write",
  resource
);`;

describe('tenant policies', () => {
  it('refuses an invalid policy with the Cedar errors and stores nothing', async () => {
    const before = await storedPolicyCount();
    const response = await send('POST', policiesPath('policy-alpha'), {
      name: 'typo',
      text: 'permit (principal, action == Citadel::Action::"document.read", resource) when { resource.colour == "red" };',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as {
      type: string;
      errors: Array<{ path: string; policyId: string; code: string; message: string }>;
    };
    expect(body.type).toMatch(/policy-invalid$/);
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: 'text',
        policyId: 'tenant/typo',
        code: 'validation-error',
        message: expect.stringMatching(/colour/) as unknown,
      }),
    ]);

    const unparsable = await send('POST', policiesPath('policy-alpha'), {
      name: 'broken',
      text: 'permit (principal, action, resource',
    });
    expect(unparsable.status).toBe(400);
    const parseBody = (await unparsable.json()) as { errors: Array<{ code: string }> };
    expect(parseBody.errors[0]?.code).toBe('parse-error');

    expect(await storedPolicyCount()).toBe(before);
    const list = await send('GET', policiesPath('policy-alpha'));
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('changes decisions when a valid policy is created, updated and deleted', async () => {
    const request = viewerWritesDocument('policy-alpha');
    const before = await evaluate('policy-alpha', request);
    expect(before).toMatchObject({ decision: 'deny', determiningPolicies: [] });

    const created = await send('POST', policiesPath('policy-alpha'), {
      name: 'viewers-write',
      description: 'Viewers edit documents',
      text: VIEWERS_WRITE,
    });
    expect(created.status).toBe(201);
    const policy = (await created.json()) as PolicyView;
    expect(created.headers.get('location')).toBe(policiesPath('policy-alpha', `/${policy.id}`));
    expect(policy).toMatchObject({ name: 'viewers-write', version: 1 });

    const allowed = await evaluate('policy-alpha', request);
    expect(allowed).toMatchObject({
      decision: 'allow',
      determiningPolicies: ['tenant/viewers-write'],
    });
    expect(allowed.inputDigest).toBe(before.inputDigest);
    expect(allowed.decisionId).not.toBe(before.decisionId);

    const updated = await send('PUT', policiesPath('policy-alpha', `/${policy.id}`), {
      name: 'viewers-write',
      text: `${VIEWERS_WRITE}\nforbid (principal, action == Citadel::Action::"document.write", resource) unless { context has mfa && context.mfa };`,
    });
    expect(updated.status).toBe(200);
    expect(((await updated.json()) as PolicyView).version).toBe(2);
    expect(await evaluate('policy-alpha', request)).toMatchObject({
      decision: 'deny',
      determiningPolicies: ['tenant/viewers-write#2'],
    });
    expect(await evaluate('policy-alpha', { ...request, context: { mfa: true } })).toMatchObject({
      decision: 'allow',
      determiningPolicies: ['tenant/viewers-write#1'],
    });

    const invalidUpdate = await send('PUT', policiesPath('policy-alpha', `/${policy.id}`), {
      name: 'viewers-write',
      text: 'permit (principal, action == Citadel::Action::"document.shred", resource);',
    });
    expect(invalidUpdate.status).toBe(400);
    const kept = await send('GET', policiesPath('policy-alpha', `/${policy.id}`));
    expect(((await kept.json()) as PolicyView).version).toBe(2);

    const duplicate = await send('POST', policiesPath('policy-alpha'), {
      name: 'viewers-write',
      text: VIEWERS_WRITE,
    });
    expect(duplicate.status).toBe(409);

    expect((await send('DELETE', policiesPath('policy-alpha', `/${policy.id}`))).status).toBe(204);
    expect((await evaluate('policy-alpha', request)).decision).toBe('deny');
    expect((await send('GET', policiesPath('policy-alpha', `/${policy.id}`))).status).toBe(404);
  });

  it('keeps tenants apart: another tenant can neither see nor change a policy', async () => {
    const created = await send('POST', policiesPath('policy-alpha'), {
      name: 'alpha-only',
      text: VIEWERS_WRITE,
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as PolicyView;

    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { name: 'stolen', text: 'permit (principal, action, resource);' }],
      ['DELETE', undefined],
    ] as const) {
      const response = await send(method, policiesPath('policy-beta', `/${id}`), body);
      expect(response.status).toBe(404);
    }
    const betaList = await send('GET', policiesPath('policy-beta'));
    expect(((await betaList.json()) as { items: unknown[] }).items).toEqual([]);
    const alpha = await send('GET', policiesPath('policy-alpha', `/${id}`));
    expect(((await alpha.json()) as PolicyView).name).toBe('alpha-only');

    // Alpha's policies never grant access to beta's documents, nor to beta's users.
    const crossDocument = await evaluate(
      'policy-alpha',
      viewerWritesDocument('policy-alpha', 'policy-beta'),
    );
    expect(crossDocument).toMatchObject({
      decision: 'deny',
      determiningPolicies: ['citadel/tenant-isolation'],
    });
    const foreignUser = await evaluate('policy-alpha', viewerWritesDocument('policy-beta'));
    expect(foreignUser).toMatchObject({
      decision: 'deny',
      determiningPolicies: ['citadel/tenant-pin'],
    });
    // Beta does not have alpha's policy.
    expect((await evaluate('policy-beta', viewerWritesDocument('policy-beta'))).decision).toBe(
      'deny',
    );
  });

  it('answers 404 for an unknown tenant and 400 for a malformed what-if', async () => {
    expect((await send('GET', policiesPath('no-such-tenant'))).status).toBe(404);
    const malformed = await send('POST', policiesPath('policy-alpha', '/evaluate'), {
      principal: 'vera',
    });
    expect(malformed.status).toBe(400);
    const unauthenticated = await fixture.api(policiesPath('policy-alpha'), { token: '' });
    expect(unauthenticated.status).toBe(401);
  });

  it('records policy changes, and refused policies, in the tenant audit log', async () => {
    const slug = 'policy-audited';
    const created = await send('POST', policiesPath(slug), {
      name: 'audited',
      text: VIEWERS_WRITE,
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as PolicyView;
    const valid = { name: 'audited', description: 'changed', text: VIEWERS_WRITE };
    expect((await send('PUT', policiesPath(slug, `/${id}`), valid)).status).toBe(200);
    const shred = 'permit (principal, action == Citadel::Action::"document.shred", resource);';
    const invalid = { name: 'audited', text: shred };
    expect((await send('PUT', policiesPath(slug, `/${id}`), invalid)).status).toBe(400);
    expect((await send('POST', policiesPath(slug), { name: 'typo', text: shred })).status).toBe(
      400,
    );
    expect((await send('DELETE', policiesPath(slug, `/${id}`))).status).toBe(204);

    const response = await send('GET', `/api/v1/tenants/${slug}/audit?limit=100`);
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: Array<{ action: string }> };
    const policyEntries = items.filter((entry) => entry.action.startsWith('policy.')).reverse();
    const operator = { type: 'operator', ip: expect.any(String) as unknown };
    expect(policyEntries).toEqual([
      expect.objectContaining({
        action: 'policy.created',
        actor: operator,
        target: { type: 'policy', id },
        outcome: 'success',
        details: { name: 'audited', version: 1 },
      }),
      expect.objectContaining({
        action: 'policy.updated',
        target: { type: 'policy', id },
        outcome: 'success',
        details: { name: 'audited', version: 2 },
      }),
      expect.objectContaining({
        action: 'policy.updated',
        actor: operator,
        target: { type: 'policy', id },
        outcome: 'failure',
        details: { name: 'audited', reason: 'policy-invalid', errorCount: 1 },
      }),
      // A refused creation has no id yet: the target is the name asked for.
      expect.objectContaining({
        action: 'policy.created',
        target: { type: 'policy', id: 'typo' },
        outcome: 'failure',
        details: { name: 'typo', reason: 'policy-invalid', errorCount: 1 },
      }),
      expect.objectContaining({
        action: 'policy.deleted',
        actor: operator,
        target: { type: 'policy', id },
        outcome: 'success',
        details: { name: 'audited', version: 2 },
      }),
    ]);
    const verified = await send('POST', `/api/v1/tenants/${slug}/audit/verify`);
    expect(await verified.json()).toMatchObject({ ok: true });
  });
});
