import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The build script and the list of what it builds (scripts/test-peers/). */
export const TEST_PEERS_SCRIPT = path.join(repositoryRoot, 'scripts/test-peers/build-peers.sh');
const PEERS_LIST = path.join(repositoryRoot, 'scripts/test-peers/peers.json');

export type TestPeerName =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'etcd'
  | 'pulumi'
  | 'pulumi-language-nodejs'
  | 'pulumi-resource-kubernetes';

/** One binary built by `scripts/test-peers/build-peers.sh`, as peers.json describes it. */
export interface TestPeer {
  name: TestPeerName;
  /** The Go module version the wrapper requires (names the cache directory). */
  version: string;
  /** The release it stands for (the npm version a provider matches), else `version`. */
  displayVersion: string;
  /** `<cache>/<name>-<version>/bin/<binary>`; present once built. */
  binary: string;
  built: boolean;
}

interface PeerListEntry {
  name: TestPeerName;
  version: string;
  binary: string;
  displayVersion?: string;
}

/** `CITADEL_PEERS_DIR`, or `~/.cache/citadel/test-peers`: outside the repository. */
export function testPeersDirectory(): string {
  return process.env.CITADEL_PEERS_DIR ?? path.join(homedir(), '.cache/citadel/test-peers');
}

/** Every peer with the path its binary has in the cache, and whether it is there. */
export function listTestPeers(): TestPeer[] {
  const list = JSON.parse(readFileSync(PEERS_LIST, 'utf8')) as { peers: PeerListEntry[] };
  return list.peers.map((entry) => {
    const directory = path.join(testPeersDirectory(), `${entry.name}-${entry.version}`);
    const binary = path.join(directory, 'bin', entry.binary);
    return {
      name: entry.name,
      version: entry.version,
      displayVersion: entry.displayVersion ?? entry.version,
      binary,
      built: existsSync(binary) && existsSync(path.join(directory, 'stamp')),
    };
  });
}

/** Whether the named peers are built, and if not, a message saying how to build them. */
export interface PeersAvailability {
  available: boolean;
  missing: TestPeerName[];
  /** Why tests skip: which peers are missing and the command that builds them. */
  reason: string;
}

/**
 * Tells whether `names` (all peers when omitted) are in the cache. Peer tests skip with
 * `reason` when they are not, unless `CITADEL_REQUIRE_PEERS=1` (CI), where they must fail.
 */
export function peersAvailable(names?: readonly TestPeerName[]): PeersAvailability {
  const peers = listTestPeers().filter((peer) => names === undefined || names.includes(peer.name));
  const missing = peers.filter((peer) => !peer.built).map((peer) => peer.name);
  const reason =
    missing.length === 0
      ? 'all test peers are built'
      : `test peers not built (${missing.join(', ')}) in ${testPeersDirectory()}: run npm run test:peers, or ${path.relative(process.cwd(), TEST_PEERS_SCRIPT)}`;
  return { available: missing.length === 0, missing, reason };
}

/** `CITADEL_REQUIRE_PEERS=1`: a missing peer is a failure, not a skip (set by .ci/run). */
export function peersRequired(): boolean {
  return process.env.CITADEL_REQUIRE_PEERS === '1';
}

/** The built peer named `name`; throws, saying how to build it, when it is missing. */
export function requireTestPeer(name: TestPeerName): TestPeer {
  const peer = listTestPeers().find((candidate) => candidate.name === name);
  if (!peer) throw new Error(`no test peer named ${name} in ${PEERS_LIST}`);
  if (!peer.built) throw new Error(peersAvailable([name]).reason);
  return peer;
}

/**
 * For a peer test file: `describe.skipIf(suite.skip)(suite.title, …)`. Missing peers skip
 * the suite with the reason in its title, or throw when CITADEL_REQUIRE_PEERS=1.
 */
export function peerSuite(
  title: string,
  names: readonly TestPeerName[],
): { title: string; skip: boolean } {
  const availability = peersAvailable(names);
  if (availability.available) return { title, skip: false };
  if (peersRequired()) throw new Error(`CITADEL_REQUIRE_PEERS=1, but ${availability.reason}`);
  return { title: `${title} [skipped: ${availability.reason}]`, skip: true };
}
