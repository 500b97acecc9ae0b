import { generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  freeLoopbackPort,
  startWatchedPeer,
  waitForPeer,
  type WatchedPeer,
} from './peer-process.ts';
import { requireTestPeer } from './test-peers.ts';

/** A real kube-apiserver on loopback, backed by its own etcd, as envtest runs one. */
export interface KubeApiServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** Bearer token of `citadel-admin`, a member of `system:masters`. */
  token: string;
  /** PEM of the CA that signed the serving certificate. */
  caCertificate: string;
  /** A kubeconfig (context `citadel-test`) for the admin. */
  kubeconfig: string;
  kubeconfigPath: string;
  /** The server's version as it reports it, e.g. `v1.34.4`. */
  version: string;
  /** The temporary directory holding etcd's data, keys and logs. */
  directory: string;
  /** The audit log (JSON lines, one event per request) when started with `auditLog`. */
  auditLogPath: string | undefined;
  /**
   * A token for a ServiceAccount from the TokenRequest API (what a pod's projected token
   * is), and a kubeconfig file that authenticates with it: a client that is that
   * ServiceAccount, with exactly the permissions RBAC grants it.
   */
  serviceAccountKubeconfig(serviceAccount: ServiceAccountRef): Promise<ServiceAccountKubeconfig>;
  /** Stops kube-apiserver, then etcd, and removes `directory`. Safe to call twice. */
  stop: () => Promise<void>;
}

export interface KubeApiServerOptions {
  /**
   * kube-controller-manager controllers to run beside the API server (default: the
   * namespace controller, so deleted namespaces go away, and the garbage collector);
   * `[]` runs no controller manager.
   */
  controllers?: string[];
  /** How long to wait for etcd's /health and the API server's /readyz (default 120 s). */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags, e.g. `--feature-gates=…`; later flags win. */
  apiServerFlags?: string[];
  /** Leave the temporary directory behind on stop (to read the logs). */
  keepDirectory?: boolean;
  /** Record every request (user, verb, resource, response code) in {@link KubeApiServer.auditLogPath}. */
  auditLog?: boolean;
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  /** The token's lifetime (default one hour; the API server's minimum is ten minutes). */
  expirationSeconds?: number;
}

export interface ServiceAccountKubeconfig {
  token: string;
  /** `system:serviceaccount:<namespace>:<name>`, as RBAC and the audit log name it. */
  username: string;
  kubeconfig: string;
  /** The kubeconfig, written (0600) in the server's directory. */
  kubeconfigPath: string;
}

/**
 * Every Service takes an address from this range, and each tenant has several: a /24 is full
 * after about 60 tenants, a /16 holds 65,534 Services.
 */
const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/16';
/** Metadata of every request, once its response is complete (or, for a watch, started). */
const AUDIT_POLICY = [
  'apiVersion: audit.k8s.io/v1',
  'kind: Policy',
  'omitStages: [RequestReceived]',
  'rules:',
  '  - level: Metadata',
  '',
].join('\n');
const DEFAULT_CONTROLLERS = ['namespace-controller', 'garbage-collector-controller'];

/** The peers startKubeApiServer runs with its default options. */
export const KUBE_API_SERVER_PEERS = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;

/**
 * Starts etcd (own data directory, no fsync) and kube-apiserver (self-signed serving
 * certificate it generates, a service-account signing key made here with node:crypto, so
 * the TokenRequest API issues ServiceAccount tokens, RBAC with a static admin token, a /16
 * of Service addresses, no kubelet) on free loopback ports, resolves once `/readyz`
 * answers, and runs kube-controller-manager with the namespace controller and the garbage
 * collector (no scheduler, no nodes: pods stay Pending). Each runs under a watchdog, so a
 * test process that dies takes them with it. Needs the peers from
 * scripts/test-peers/build-peers.sh.
 */
export async function startKubeApiServer(
  options: KubeApiServerOptions = {},
): Promise<KubeApiServer> {
  const controllers = options.controllers ?? DEFAULT_CONTROLLERS;
  const etcdBinary = requireTestPeer('etcd').binary;
  const apiServerBinary = requireTestPeer('kube-apiserver').binary;
  const controllerManagerBinary =
    controllers.length > 0 ? requireTestPeer('kube-controller-manager').binary : undefined;
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const directory = await mkdtemp(path.join(tmpdir(), 'citadel-kube-'));
  const running: WatchedPeer[] = [];
  const stopAll = async (): Promise<void> => {
    // kube-apiserver first: etcd going away under it makes its shutdown slow and noisy.
    for (const peer of running.toReversed()) await peer.stop();
    running.length = 0;
    if (!options.keepDirectory) await rm(directory, { recursive: true, force: true });
  };
  try {
    const etcdUrl = await startEtcd(etcdBinary, directory, timeoutMs, running);
    const files = await writeApiServerFiles(directory, options.auditLog ?? false);
    const port = await freeLoopbackPort();
    const url = `https://127.0.0.1:${port}`;
    const apiServer = startWatchedPeer(
      apiServerBinary,
      [...apiServerFlags({ etcdUrl, port, files }), ...(options.apiServerFlags ?? [])],
      path.join(directory, 'kube-apiserver.log'),
    );
    running.push(apiServer);
    const caCertificate = await waitForPeer(apiServer, () => readServingCa(files.certDirectory), {
      timeoutMs,
      description: 'kube-apiserver to write its serving certificate',
    });
    const client = { url, token: files.token, caCertificate };
    await waitForPeer(apiServer, () => probeReady(client), {
      timeoutMs,
      intervalMs: 250,
      description: 'kube-apiserver /readyz',
    });
    const version = await getJson<{ gitVersion: string }>(client, '/version');
    const kubeconfig = renderKubeconfig(client, ADMIN_USER);
    const kubeconfigPath = path.join(directory, 'kubeconfig.yaml');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
    if (controllerManagerBinary !== undefined) {
      running.push(
        startWatchedPeer(
          controllerManagerBinary,
          controllerManagerFlags(kubeconfigPath, controllers),
          path.join(directory, 'kube-controller-manager.log'),
        ),
      );
    }
    let stopped: Promise<void> | undefined;
    return {
      ...client,
      kubeconfig,
      kubeconfigPath,
      version: version.gitVersion,
      directory,
      auditLogPath: files.audit?.logPath,
      serviceAccountKubeconfig: (serviceAccount) =>
        writeServiceAccountKubeconfig(client, directory, serviceAccount),
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function startEtcd(
  binary: string,
  directory: string,
  timeoutMs: number,
  running: WatchedPeer[],
): Promise<string> {
  const clientPort = await freeLoopbackPort();
  const peerPort = await freeLoopbackPort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = startWatchedPeer(
    binary,
    [
      '--name=citadel-test',
      `--data-dir=${path.join(directory, 'etcd')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=citadel-test=${peerUrl}`,
      // A test cluster lives for one test file: durability buys nothing, fsync costs a lot.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    path.join(directory, 'etcd.log'),
  );
  running.push(etcd);
  await waitForPeer(
    etcd,
    async () => {
      const response = await fetch(`${clientUrl}/health`);
      const body = (await response.json()) as { health?: string };
      return body.health === 'true' ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, description: 'etcd /health' },
  );
  return clientUrl;
}

interface ApiServerFiles {
  certDirectory: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
  tokenFile: string;
  token: string;
  audit: { policyPath: string; logPath: string } | undefined;
}

const ADMIN_USER = 'citadel-admin';

async function writeApiServerFiles(directory: string, auditLog: boolean): Promise<ApiServerFiles> {
  const certDirectory = path.join(directory, 'pki');
  await mkdir(certDirectory, { mode: 0o700 });
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const serviceAccountKey = path.join(certDirectory, 'service-account.key');
  const serviceAccountPublicKey = path.join(certDirectory, 'service-account.pub');
  await writeFile(serviceAccountKey, privateKey, { mode: 0o600 });
  await writeFile(serviceAccountPublicKey, publicKey);
  const token = randomBytes(32).toString('hex');
  const tokenFile = path.join(certDirectory, 'tokens.csv');
  // token,user,uid,"group1,group2"
  await writeFile(tokenFile, `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, {
    mode: 0o600,
  });
  let audit: ApiServerFiles['audit'];
  if (auditLog) {
    audit = {
      policyPath: path.join(directory, 'audit-policy.yaml'),
      logPath: path.join(directory, 'audit.log'),
    };
    await writeFile(audit.policyPath, AUDIT_POLICY);
  }
  return { certDirectory, serviceAccountKey, serviceAccountPublicKey, tokenFile, token, audit };
}

function auditFlags(audit: ApiServerFiles['audit']): string[] {
  if (audit === undefined) return [];
  return [
    `--audit-policy-file=${audit.policyPath}`,
    `--audit-log-path=${audit.logPath}`,
    '--audit-log-format=json',
    // Written as each request completes, not batched: a test reads what happened so far.
    '--audit-log-mode=blocking',
  ];
}

function apiServerFlags(input: { etcdUrl: string; port: number; files: ApiServerFiles }): string[] {
  const { etcdUrl, port, files } = input;
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    // No --tls-cert-file: the server generates a CA and a serving certificate for
    // 127.0.0.1/localhost here and we trust that CA.
    `--cert-dir=${files.certDirectory}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${files.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${files.serviceAccountKey}`,
    `--token-auth-file=${files.tokenFile}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // No controller manager creates the `default` service accounts, so, as envtest does,
    // pods are not made to wait for one.
    '--disable-admission-plugins=ServiceAccount',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    ...auditFlags(files.audit),
  ];
}

function controllerManagerFlags(kubeconfigPath: string, controllers: string[]): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    `--controllers=${controllers.join(',')}`,
    '--leader-elect=false',
    // It serves nothing the tests need (health, metrics): no port, no certificates.
    '--secure-port=0',
  ];
}

/** The CA certificate at the end of the generated `apiserver.crt` chain, once written. */
async function readServingCa(certDirectory: string) {
  let chain: string;
  try {
    chain = await readFile(path.join(certDirectory, 'apiserver.crt'), 'utf8');
  } catch {
    return undefined;
  }
  const blocks = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  const ca = blocks?.find((block) => new X509Certificate(block).ca);
  return ca === undefined ? undefined : `${ca}\n`;
}

interface ApiClient {
  url: string;
  token: string;
  caCertificate: string;
}

async function probeReady(client: ApiClient) {
  const { status } = await httpsRequest(client, 'GET', '/readyz');
  return status === 200 ? true : undefined;
}

async function getJson<T>(client: ApiClient, pathname: string): Promise<T> {
  const { status, body } = await httpsRequest(client, 'GET', pathname);
  if (status !== 200) throw new Error(`GET ${pathname}: ${status} ${body}`);
  return JSON.parse(body) as T;
}

/** Asks the TokenRequest API, as the admin, for a token of `serviceAccount`. */
async function writeServiceAccountKubeconfig(
  client: ApiClient,
  directory: string,
  serviceAccount: ServiceAccountRef,
): Promise<ServiceAccountKubeconfig> {
  const { namespace, name } = serviceAccount;
  const pathname = `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`;
  const { status, body } = await httpsRequest(client, 'POST', pathname, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: serviceAccount.expirationSeconds ?? 3_600 },
  });
  if (status !== 201) throw new Error(`POST ${pathname}: ${status} ${body}`);
  const { token } = (JSON.parse(body) as { status: { token: string } }).status;
  const username = `system:serviceaccount:${namespace}:${name}`;
  const kubeconfig = renderKubeconfig({ ...client, token }, username);
  const kubeconfigPath = path.join(directory, `kubeconfig-${namespace}-${name}.yaml`);
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
  return { token, username, kubeconfig, kubeconfigPath };
}

/** node:https, because fetch cannot be given a CA without undici's own Agent. */
function httpsRequest(
  client: ApiClient,
  method: 'GET' | 'POST',
  pathname: string,
  json?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      new URL(pathname, client.url),
      {
        method,
        ca: client.caCertificate,
        headers: {
          authorization: `Bearer ${client.token}`,
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        timeout: 5_000,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${pathname} timed out`)));
    outgoing.on('error', reject);
    outgoing.end(json === undefined ? undefined : JSON.stringify(json));
  });
}

/** A kubeconfig (context `citadel-test`) in which `user` authenticates with `client.token`. */
function renderKubeconfig(client: ApiClient, user: string): string {
  const ca = Buffer.from(client.caCertificate).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: citadel-test',
    '    cluster:',
    `      server: ${client.url}`,
    `      certificate-authority-data: ${ca}`,
    'users:',
    `  - name: ${JSON.stringify(user)}`,
    '    user:',
    `      token: ${client.token}`,
    'contexts:',
    '  - name: citadel-test',
    '    context:',
    '      cluster: citadel-test',
    `      user: ${JSON.stringify(user)}`,
    'current-context: citadel-test',
    '',
  ].join('\n');
}
