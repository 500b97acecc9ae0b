import type { DriverLogger } from '../drivers/local/driver-logger.ts';
import { describeKubernetesError, isConflict, isNotFound } from './kubernetes-clients.ts';
import { resourcePath, type KubernetesRestClient } from './kubernetes-rest-client.ts';
import { createInterruptibleSleep } from './interruptible-sleep.ts';

/** Timings of the election, with client-go's defaults (15 s, 10 s, 2 s). */
export interface LeaderElectionTimings {
  /** How long a leader's lease holds after its last renewal, for the others. */
  leaseDurationMs: number;
  /** A leader that could not renew for this long stops leading (must be < leaseDuration). */
  renewDeadlineMs: number;
  /** How often candidates try to acquire and the leader renews. */
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION_TIMINGS: LeaderElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export interface LeaderElectorOptions {
  rest: KubernetesRestClient;
  namespace: string;
  /** The Lease's name, shared by every replica. */
  name: string;
  /** This replica's identity (pod name and a random suffix). */
  identity: string;
  timings?: Partial<LeaderElectionTimings>;
  /** Called once leadership is acquired; leading lasts until `onStoppedLeading`. */
  onStartedLeading(): Promise<void> | void;
  /** Called when leadership is lost (or released): stop reconciling. */
  onStoppedLeading(): Promise<void> | void;
  logger: DriverLogger;
}

export interface LeaderElector {
  /** Campaigns until stopped: acquire, lead and renew, and campaign again after a loss. */
  run(): Promise<void>;
  isLeader(): boolean;
  /** The identity holding the lease as last observed. */
  observedLeader(): string | undefined;
  /** Whether the last call to the API server succeeded (readiness). */
  apiReachable(): boolean;
  /** Stops campaigning; a leader stops leading and, with `release`, frees the lease at once. */
  stop(options?: { release?: boolean }): Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** RFC 3339 with microseconds, the `MicroTime` format a Lease's times must have. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does:
 * a candidate takes the lease when it is free, released, or not renewed for
 * `leaseDuration` as measured on the candidate's own clock since it last saw the lease
 * change (never trusting another machine's clock); every write is guarded by the Lease's
 * resourceVersion, so two candidates never both win. The leader renews every `retryPeriod`
 * and gives up leading when it has not renewed within `renewDeadline` — before any other
 * candidate may take over — so at most one replica reconciles.
 */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const timings = { ...DEFAULT_LEADER_ELECTION_TIMINGS, ...options.timings };
  const { rest, identity, logger } = options;
  const leaseType = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
  const reference = {
    ...leaseType,
    metadata: { name: options.name, namespace: options.namespace },
  };
  const path = resourcePath(leaseType, options.namespace, options.name);
  let leader = false;
  let stopped = false;
  /** Read through a function: `stopped` changes while a loop awaits. */
  const isStopped = () => stopped;
  let reachable = false;
  let observed: { key: string; at: number; holder: string | undefined } | undefined;
  let running: Promise<void> | undefined;

  const { sleep, wake } = createInterruptibleSleep();
  const jittered = (ms: number) => ms * (1 + Math.random() * 0.2);

  const read = async (): Promise<Lease | undefined> => {
    try {
      return await rest.request<Lease>('GET', path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  const leaseSpec = (previous: LeaseSpec | undefined, now: Date): LeaseSpec => {
    const renewing = previous?.holderIdentity === identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(timings.leaseDurationMs / 1000),
      acquireTime: renewing && previous.acquireTime ? previous.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: renewing
        ? (previous.leaseTransitions ?? 0)
        : (previous?.leaseTransitions ?? -1) + 1,
    };
  };

  /** Remembers when this replica last saw the lease change, by its own clock. */
  const observe = (lease: Lease) => {
    const spec = lease.spec ?? {};
    const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${lease.metadata.resourceVersion ?? ''}`;
    if (observed?.key !== key) observed = { key, at: Date.now(), holder: spec.holderIdentity };
  };

  /** One attempt to acquire or renew; true when this replica holds the lease afterwards. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const now = new Date();
    const lease = await read();
    if (!lease) {
      const body: Lease = { ...reference, spec: leaseSpec(undefined, now) };
      await rest.request('POST', resourcePath(leaseType, options.namespace), { body });
      return true;
    }
    observe(lease);
    const holder = lease.spec?.holderIdentity;
    const heldByOther = holder !== undefined && holder !== '' && holder !== identity;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (heldByOther && observed !== undefined && observed.at + durationMs > Date.now()) {
      return false;
    }
    // PUT with the resourceVersion read: of two candidates, one write wins, the other gets 409.
    await rest.request('PUT', path, { body: { ...lease, spec: leaseSpec(lease.spec, now) } });
    return true;
  };

  const attempt = async (): Promise<boolean> => {
    try {
      const held = await tryAcquireOrRenew();
      reachable = true;
      return held;
    } catch (error) {
      // A conflict is another candidate's write winning the race: not an outage.
      reachable = isConflict(error);
      if (!isConflict(error)) {
        logger.warn(
          { lease: options.name, error: describeKubernetesError(error) },
          'lease update failed',
        );
      }
      return false;
    }
  };

  const acquire = async (): Promise<boolean> => {
    while (!stopped) {
      if (await attempt()) return true;
      await sleep(jittered(timings.retryPeriodMs));
    }
    return false;
  };

  /** Renews until a renewal deadline passes without success, or until stopped. */
  const renewLoop = async (): Promise<void> => {
    let lastRenewal = Date.now();
    while (!stopped) {
      await sleep(timings.retryPeriodMs);
      if (isStopped()) return;
      if (await attempt()) lastRenewal = Date.now();
      else if (Date.now() - lastRenewal >= timings.renewDeadlineMs) return;
    }
  };

  const setLeading = async (leading: boolean) => {
    if (leader === leading) return;
    leader = leading;
    logger.info({ lease: options.name, identity }, leading ? 'became leader' : 'stopped leading');
    await (leading ? options.onStartedLeading() : options.onStoppedLeading());
  };

  const campaign = async (): Promise<void> => {
    while (!stopped) {
      if (!(await acquire())) return;
      await setLeading(true);
      await renewLoop();
      await setLeading(false);
    }
  };

  const release = async () => {
    try {
      const lease = await read();
      if (lease?.spec?.holderIdentity !== identity) return;
      // As client-go does: an empty holder and a 1 s lease, so a candidate takes over at once.
      const now = microTime(new Date());
      await rest.request('PUT', path, {
        body: {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now },
        },
      });
    } catch (error) {
      logger.warn(
        { lease: options.name, error: describeKubernetesError(error) },
        'lease release failed',
      );
    }
  };

  return {
    run() {
      stopped = false;
      running ??= campaign().finally(() => {
        running = undefined;
      });
      return running;
    },
    isLeader: () => leader,
    observedLeader: () => (leader ? identity : observed?.holder),
    apiReachable: () => reachable,
    async stop(stopOptions = {}) {
      const wasLeader = leader;
      stopped = true;
      wake();
      await running;
      await setLeading(false);
      if (wasLeader && stopOptions.release) await release();
    },
  };
}
