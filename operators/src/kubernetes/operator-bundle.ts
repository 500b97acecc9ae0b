/**
 * `npm run build:operator`: bundles the Kubernetes operator (src/kubernetes/operator-main.ts
 * and everything it imports) into one ES module, `operators/dist/operator.js`, with a
 * source map. The operator's container runs this file (`node operators/dist/operator.js`).
 *
 * Why a bundle: loaded from source, Node strips the types of ~100 modules and loads whole
 * packages of which the operator uses a corner (the Kubernetes client's generated API
 * models, zod's locales); the idle operator then holds ~160 MiB resident, the bundle
 * ~110 MiB. The SDKs only some platforms use (Milvus, the Pulumi automation API and the
 * infra programs) stay outside it, loaded from node_modules when configured: the Milvus
 * client reads its .proto files next to its own code, and Pulumi runs its language host
 * from its package.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const operatorsDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OPERATOR_BUNDLE = path.join(operatorsDirectory, 'dist', 'operator.js');

export async function buildOperatorBundle(): Promise<string> {
  const outputDirectory = path.dirname(OPERATOR_BUNDLE);
  await rm(outputDirectory, { recursive: true, force: true });
  await build({
    input: { operator: path.join(operatorsDirectory, 'src/kubernetes/operator-main.ts') },
    platform: 'node',
    cwd: operatorsDirectory,
    external: [/^@zilliz\//, /^@pulumi\//, /^@citadel\/infra(\/|$)/],
    logLevel: 'warn',
    output: { dir: outputDirectory, format: 'esm', sourcemap: true },
  });
  return OPERATOR_BUNDLE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const startedAt = performance.now();
  const bundle = await buildOperatorBundle();
  console.info(
    `${path.relative(process.cwd(), bundle)} built in ${Math.round(performance.now() - startedAt)} ms`,
  );
}
