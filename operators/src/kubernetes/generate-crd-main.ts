/**
 * Writes the Tenant CRD, generated from the contracts, to operators/crd/.
 *
 *   node operators/src/kubernetes/generate-crd-main.ts           write it (npm run crd:generate)
 *   node operators/src/kubernetes/generate-crd-main.ts --check   exit 1 when the file is stale
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TENANT_CRD_PATH, tenantCrdYaml } from './tenant-crd.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const target = path.join(repositoryRoot, TENANT_CRD_PATH);
const yaml = tenantCrdYaml();

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

const current = await readIfExists(target);
if (process.argv.includes('--check')) {
  if (current === yaml) {
    console.log(`crd: ${TENANT_CRD_PATH} is up to date`);
  } else {
    console.error(`crd: ${TENANT_CRD_PATH} is stale: run npm run crd:generate`);
    process.exitCode = 1;
  }
} else if (current === yaml) {
  console.log(`crd: ${TENANT_CRD_PATH} unchanged`);
} else {
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, yaml);
  console.log(`crd: wrote ${TENANT_CRD_PATH}`);
}
