import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTenantSpec, findPlan } from '@citadel/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import type { TenantRef } from '../src/core/tenant-drivers.ts';
import {
  completeExport,
  exportDirectoryName,
  exportsDirectory,
  findCompletedExport,
  startPartialExport,
} from '../src/drivers/local/tenant-export-directory.ts';

const directories: string[] = [];

afterEach(async () => {
  await Promise.all(
    directories.splice(0).map((path) => rm(path, { recursive: true, force: true })),
  );
});

function tenantRef(slug: string, uid = randomUUID()): TenantRef {
  const plan = findPlan('starter');
  if (!plan) throw new Error('starter plan missing');
  return { uid, slug, spec: defaultTenantSpec({ slug, displayName: slug, plan, region: 'local' }) };
}

async function dataDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'citadel-exports-'));
  directories.push(directory);
  return directory;
}

describe('tenant export directories', () => {
  it("never takes another tenant's export for its own, whatever that tenant's slug", async () => {
    const dataDir = await dataDirectory();
    const victim = tenantRef('a');
    // A slug may be `a-<uid of a>`: its exports start with the victim's prefix.
    const lookalike = tenantRef(`a-${victim.uid}`);
    const partial = await startPartialExport(dataDir, lookalike);
    await writeFile(join(partial, 'tenant.json'), '{}\n');
    const at = new Date('2026-11-24T12:00:00Z');
    await completeExport(partial, exportDirectoryName(lookalike, at), { format: 'test' });
    const lookalikePartial = await startPartialExport(dataDir, lookalike);

    expect(await findCompletedExport(dataDir, victim)).toBeUndefined();
    await startPartialExport(dataDir, victim);
    // The victim's fresh start cleared only its own partial exports.
    expect(await readdir(exportsDirectory(dataDir))).toContain(lookalikePartial.split('/').at(-1));
    expect(await findCompletedExport(dataDir, lookalike)).toBe(
      join(exportsDirectory(dataDir), `a-${victim.uid}-${lookalike.uid}-20261124T120000Z`),
    );
  });

  it('ignores a directory under a final name without its manifest', async () => {
    const dataDir = await dataDirectory();
    const tenant = tenantRef('acme');
    const name = exportDirectoryName(tenant, new Date('2026-11-24T12:00:00Z'));
    await mkdir(join(exportsDirectory(dataDir), name), { recursive: true });
    expect(await findCompletedExport(dataDir, tenant)).toBeUndefined();
  });
});
