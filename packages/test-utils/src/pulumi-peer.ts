import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireTestPeer } from './test-peers.ts';

/** The Pulumi CLI, its Node.js language host and the Kubernetes provider, ready to run offline. */
export interface PulumiPeer {
  /**
   * A directory whose `bin/` links the three binaries: `PulumiCommand.get({ root })` of
   * the Automation API, or the first PATH entry of `env`.
   */
  root: string;
  /** A fresh, empty PULUMI_HOME. */
  pulumiHome: string;
  /** `file://…`: a local state directory, no Pulumi Cloud. */
  backendUrl: string;
  passphrase: string;
  /** For the CLI (or LocalWorkspace's envVars): PATH, PULUMI_HOME, backend, passphrase, no update check, no plugin downloads. */
  env: Record<string, string>;
  /** The versions that run: `{ pulumi: 'v3.274.1', 'pulumi-resource-kubernetes': 'v4.24.1', … }`. */
  versions: Record<string, string>;
  /** Removes the temporary home, state and links. */
  cleanup: () => Promise<void>;
}

/**
 * A Pulumi installation of the cached peers in a temporary directory: state in a file
 * backend and plugin downloads disabled, so `pulumi` runs offline. The language host and
 * the Kubernetes provider are found on PATH, where Pulumi takes an "ambient" plugin
 * whatever version a program asks for (it warns `using pulumi-resource-kubernetes from
 * $PATH`): @pulumi/kubernetes 4.24.1 and infra's resources pinned to 4.34.2 both get the
 * provider built from the v4.24 line.
 */
export async function pulumiPeer(): Promise<PulumiPeer> {
  const cli = requireTestPeer('pulumi');
  const languageHost = requireTestPeer('pulumi-language-nodejs');
  const kubernetesProvider = requireTestPeer('pulumi-resource-kubernetes');
  const root = await mkdtemp(path.join(tmpdir(), 'citadel-pulumi-'));
  const bin = path.join(root, 'bin');
  const pulumiHome = path.join(root, 'home');
  const state = path.join(root, 'state');
  await Promise.all([mkdir(bin), mkdir(state), mkdir(pulumiHome)]);
  for (const peer of [cli, languageHost, kubernetesProvider]) {
    await symlink(peer.binary, path.join(bin, path.basename(peer.binary)));
  }
  const backendUrl = `file://${state}`;
  const passphrase = randomBytes(16).toString('hex');
  const env = {
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    PULUMI_HOME: pulumiHome,
    PULUMI_BACKEND_URL: backendUrl,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: '1',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  };
  const versions = Object.fromEntries(
    [cli, languageHost, kubernetesProvider].map((peer) => [peer.name, peer.displayVersion]),
  );
  return {
    root,
    pulumiHome,
    backendUrl,
    passphrase,
    env,
    versions,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
