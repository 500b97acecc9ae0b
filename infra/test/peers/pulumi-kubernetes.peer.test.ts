import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kubernetes from '@pulumi/kubernetes';
import { automation } from '@pulumi/pulumi';
import {
  KUBE_API_SERVER_PEERS,
  peerSuite,
  pulumiPeer,
  startKubeApiServer,
  type KubeApiServer,
  type PulumiPeer,
} from '@citadel/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NODE_MODULES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../node_modules',
);
const suite = peerSuite('Pulumi and the Kubernetes provider against a real API server', [
  ...KUBE_API_SERVER_PEERS,
  'pulumi',
  'pulumi-language-nodejs',
  'pulumi-resource-kubernetes',
]);

describe.skipIf(suite.skip)(suite.title, () => {
  let server: KubeApiServer;
  let peer: PulumiPeer;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    [server, peer] = await Promise.all([startKubeApiServer(), pulumiPeer()]);
    cleanups.push(server.stop, peer.cleanup);
  });

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  const workspaceOptions = async (): Promise<automation.LocalWorkspaceOptions> => ({
    pulumiCommand: await automation.PulumiCommand.get({ root: peer.root }),
    pulumiHome: peer.pulumiHome,
    envVars: peer.env,
  });

  it('an inline program: up creates a Namespace, destroy removes it', async () => {
    const name = 'tenant-pulumi-inline';
    // The Automation API serves an inline program from this process: no language host.
    const program = () => {
      const provider = new kubernetes.Provider('test-cluster', { kubeconfig: server.kubeconfig });
      const namespace = new kubernetes.core.v1.Namespace(
        'tenant',
        { metadata: { name, labels: { 'citadel.azora.dev/tenant': 'pulumi-inline' } } },
        { provider },
      );
      return Promise.resolve({ namespace: namespace.metadata.name });
    };
    const stack = await automation.LocalWorkspace.createOrSelectStack(
      { stackName: 'inline', projectName: 'citadel-peer-inline', program },
      {
        ...(await workspaceOptions()),
        projectSettings: {
          name: 'citadel-peer-inline',
          runtime: 'nodejs',
          backend: { url: peer.backendUrl },
        },
      },
    );

    const up = await stack.up();
    expect(up.summary.result).toBe('succeeded');
    expect(up.outputs.namespace?.value).toBe(name);
    expect(await statusOf(server, `/api/v1/namespaces/${name}`)).toBe(200);

    const destroy = await stack.destroy();
    expect(destroy.summary.result).toBe('succeeded');
    // The provider waits until the namespace is gone: the controller manager's namespace
    // controller has emptied and finalized it.
    expect(await statusOf(server, `/api/v1/namespaces/${name}`)).toBe(404);
  });

  it('a project directory, run through the Node.js language host', async () => {
    const workDir = path.join(peer.root, 'project');
    await writeProject(workDir);
    const stack = await automation.LocalWorkspace.createOrSelectStack(
      { stackName: 'project', workDir },
      await workspaceOptions(),
    );
    await stack.setConfig('kubeconfig', { value: server.kubeconfig, secret: true });
    const configMap = '/api/v1/namespaces/default/configmaps/citadel-peer-project';

    const up = await stack.up();
    expect(up.summary.result).toBe('succeeded');
    expect(await statusOf(server, configMap)).toBe(200);

    await stack.destroy();
    expect(await statusOf(server, configMap)).toBe(404);
  });
});

/** A CommonJS Pulumi project that applies one ConfigMap, using the repository's packages. */
async function writeProject(workDir: string): Promise<void> {
  await mkdir(workDir);
  await symlink(NODE_MODULES, path.join(workDir, 'node_modules'));
  await writeFile(
    path.join(workDir, 'Pulumi.yaml'),
    ['name: citadel-peer-project', 'runtime: nodejs', 'main: index.js', ''].join('\n'),
  );
  await writeFile(path.join(workDir, 'package.json'), '{ "name": "citadel-peer-project" }\n');
  await writeFile(
    path.join(workDir, 'index.js'),
    [
      "const pulumi = require('@pulumi/pulumi');",
      "const kubernetes = require('@pulumi/kubernetes');",
      "const kubeconfig = new pulumi.Config().requireSecret('kubeconfig');",
      "const provider = new kubernetes.Provider('test-cluster', { kubeconfig });",
      'new kubernetes.core.v1.ConfigMap(',
      "  'settings',",
      "  { metadata: { name: 'citadel-peer-project', namespace: 'default' }, data: { plan: 'starter' } },",
      '  { provider },',
      ');',
      '',
    ].join('\n'),
  );
}

/** Status of a GET on the test API server as its admin. */
function statusOf(server: KubeApiServer, pathname: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    request(
      new URL(pathname, server.url),
      { ca: server.caCertificate, headers: { authorization: `Bearer ${server.token}` } },
      (response) => {
        response.resume();
        resolve(response.statusCode);
      },
    )
      .on('error', reject)
      .end();
  });
}
