import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObservedServices } from '../../core/observed-state.ts';
import type { DriverLogger } from './driver-logger.ts';

/** How the supervisor restarts and stops hosts. */
export interface SupervisionPolicy {
  /** First restart delay after a crash; doubles on each crash in a row. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A host up this long resets the back-off. */
  stableAfterMs: number;
  /** A host that has not reported ready by then is killed and counted as a crash. */
  readyTimeoutMs: number;
  /** Grace between SIGTERM and SIGKILL on stop. */
  stopTimeoutMs: number;
}

export const DEFAULT_SUPERVISION_POLICY: SupervisionPolicy = {
  initialBackoffMs: 250,
  maxBackoffMs: 30_000,
  stableAfterMs: 60_000,
  readyTimeoutMs: 15_000,
  stopTimeoutMs: 5_000,
};

/** One host to run: who it serves, where it logs, and its whole environment. */
export interface HostLaunch {
  tenantUid: string;
  slug: string;
  /** The tenant's private directory: `host.log` and `host.pid` go there. */
  directory: string;
  /** The host's complete environment; the supervisor's own is never inherited. */
  environment: Readonly<Record<string, string>>;
}

/** Reported to change listeners whenever a host's state changes. */
export interface HostChange {
  slug: string;
  tenantUid: string;
  state: ObservedServices['state'];
}

/** Gets the slug first, so `(slug) => controller.enqueue(slug)` fits. */
export type HostChangeListener = (slug: string, change: HostChange) => void;

export interface HostSupervisor {
  /**
   * Starts supervising `launch` (idempotent). Resolves once the host reports ready;
   * rejects if it dies or times out first, while supervision goes on restarting it. If
   * supervision is already waiting out a back-off, resolves at once without waiting.
   * A launch with a different environment replaces the running host.
   */
  start(launch: HostLaunch): Promise<void>;
  /** Stops the host (SIGTERM, then SIGKILL) and supervision of it. Idempotent. */
  stop(slug: string, directory: string): Promise<void>;
  /** The host's state; `stopped` for hosts never started or stopped since. */
  status(slug: string, tenantUid: string): ObservedServices;
  /** The host's base URL while it is running, for the gateway. */
  resolveEndpoint(slug: string): string | undefined;
  /** Stops every host, for shutdown. */
  stopAll(): Promise<void>;
  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onChange(listener: HostChangeListener): () => void;
}

export interface HostSupervisorDeps {
  /** The host program (`data-plane/runtime/src/host-main.ts`), run by this Node binary. */
  hostEntry: string;
  logger: DriverLogger;
  policy?: Partial<SupervisionPolicy>;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

interface SupervisedHost {
  launch: HostLaunch;
  launchKey: string;
  desired: 'running' | 'stopped';
  state: ObservedServices['state'];
  child: ChildProcess | undefined;
  endpoint: string | undefined;
  restarts: number;
  lastError: string | undefined;
  backoffMs: number;
  timers: { restart?: NodeJS.Timeout; stable?: NodeJS.Timeout; ready?: NodeJS.Timeout };
  readyWaiters: Waiter[];
}

const HOST_LOG = 'host.log';
const HOST_PID = 'host.pid';

/**
 * Runs one data-plane host process per tenant and keeps it running: a crashed host comes
 * back after an exponential back-off. Hosts hold an IPC channel to the supervisor and exit
 * when it closes, so even a SIGKILLed control plane leaves no orphan behind.
 */
export function createHostSupervisor(deps: HostSupervisorDeps): HostSupervisor {
  const policy = { ...DEFAULT_SUPERVISION_POLICY, ...deps.policy };
  const { hostEntry, logger } = deps;
  const hosts = new Map<string, SupervisedHost>();
  const listeners = new Set<HostChangeListener>();
  const locks = new Map<string, Promise<unknown>>();

  /** Runs `work` after any earlier work on the same slug: starts and stops never interleave. */
  const serialized = <T>(slug: string, work: () => Promise<T>): Promise<T> => {
    const previous = locks.get(slug) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    locks.set(slug, next);
    void next
      .catch(() => undefined)
      .finally(() => {
        if (locks.get(slug) === next) locks.delete(slug);
      });
    return next;
  };

  const emit = (host: SupervisedHost): void => {
    const change = { slug: host.launch.slug, tenantUid: host.launch.tenantUid, state: host.state };
    for (const listener of listeners) {
      try {
        listener(change.slug, change);
      } catch (error) {
        logger.error({ error: (error as Error).message }, 'host change listener failed');
      }
    }
  };

  const clearTimers = (host: SupervisedHost): void => {
    clearTimeout(host.timers.restart);
    clearTimeout(host.timers.stable);
    clearTimeout(host.timers.ready);
    host.timers = {};
  };

  const settleWaiters = (host: SupervisedHost, error?: Error): void => {
    const waiters = host.readyWaiters;
    host.readyWaiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  };

  const waitForReady = (host: SupervisedHost): Promise<void> =>
    new Promise((resolve, reject) => host.readyWaiters.push({ resolve, reject }));

  const onReady = (host: SupervisedHost, child: ChildProcess, port: number): void => {
    if (host.child !== child || host.state !== 'starting') return;
    clearTimeout(host.timers.ready);
    host.state = 'running';
    host.endpoint = `http://127.0.0.1:${port}`;
    host.timers.stable = setTimeout(() => {
      host.backoffMs = policy.initialBackoffMs;
    }, policy.stableAfterMs);
    host.timers.stable.unref();
    settleWaiters(host);
    emit(host);
  };

  const onExit = (host: SupervisedHost, child: ChildProcess | undefined, reason: string): void => {
    if (host.child !== child) return;
    clearTimers(host);
    host.child = undefined;
    host.endpoint = undefined;
    if (child?.pid !== undefined) {
      removePidFile(host.launch.directory, child.pid).catch((error: unknown) =>
        logger.warn(
          { tenant: host.launch.slug, error: (error as Error).message },
          'could not remove host.pid',
        ),
      );
    }
    if (host.desired === 'stopped') {
      // stopHost reports the change once the exit is complete.
      host.state = 'stopped';
      return;
    }
    // Read synchronously so that the error a failed start rejects with already names the cause.
    const lastLine = lastLogLine(join(host.launch.directory, HOST_LOG));
    host.lastError = lastLine ? `${reason}: ${lastLine}` : reason;
    host.state = 'crashed';
    const delay = host.backoffMs;
    host.backoffMs = Math.min(host.backoffMs * 2, policy.maxBackoffMs);
    logger.warn(
      {
        tenant: host.launch.slug,
        error: host.lastError,
        restartInMs: delay,
        restarts: host.restarts,
      },
      'data-plane host stopped unexpectedly; restarting',
    );
    host.timers.restart = setTimeout(() => {
      if (host.desired !== 'running' || hosts.get(host.launch.slug) !== host) return;
      host.restarts += 1;
      spawnHost(host);
    }, delay);
    // Supervision alone never keeps a process alive: shutdown calls stopAll.
    host.timers.restart.unref();
    settleWaiters(host, new Error(`data-plane host of ${host.launch.slug} ${host.lastError}`));
    emit(host);
  };

  const spawnHost = (host: SupervisedHost): void => {
    const { launch } = host;
    host.state = 'starting';
    host.endpoint = undefined;
    let child: ChildProcess;
    try {
      const log = openSync(join(launch.directory, HOST_LOG), 'a', 0o600);
      try {
        child = spawn(process.execPath, [hostEntry], {
          env: launch.environment,
          cwd: launch.directory,
          stdio: ['ignore', log, log, 'ipc'],
        });
      } finally {
        closeSync(log);
      }
    } catch (error) {
      onExit(host, undefined, `could not be started: ${(error as Error).message}`);
      return;
    }
    host.child = child;
    let exited = false;
    const exit = (reason: string): void => {
      if (exited) return;
      exited = true;
      onExit(host, child, reason);
    };
    child.on('message', (message: unknown) => {
      const port = readyPort(message);
      if (port !== undefined) onReady(host, child, port);
    });
    child.once('exit', (code, signal) =>
      exit(signal ? `was killed by ${signal}` : `exited with code ${code}`),
    );
    child.on('error', (error) => {
      // 'error' without a pid means the spawn itself failed, and no 'exit' may follow.
      if (child.pid === undefined) exit(`could not be started: ${error.message}`);
      else logger.warn({ tenant: launch.slug, error: error.message }, 'data-plane host IPC error');
    });
    host.timers.ready = setTimeout(() => {
      if (host.child !== child || host.state !== 'starting') return;
      logger.warn({ tenant: launch.slug }, 'data-plane host did not report ready; killing it');
      child.kill('SIGKILL');
      exit(`did not report ready within ${policy.readyTimeoutMs} ms`);
    }, policy.readyTimeoutMs);
    host.timers.ready.unref();
    if (child.pid !== undefined) {
      void writeFile(join(launch.directory, HOST_PID), `${child.pid}\n`, { mode: 0o600 }).catch(
        (error: unknown) =>
          logger.warn(
            { tenant: launch.slug, error: (error as Error).message },
            'could not write host.pid',
          ),
      );
    }
    emit(host);
  };

  const stopHost = async (host: SupervisedHost): Promise<void> => {
    host.desired = 'stopped';
    clearTimers(host);
    settleWaiters(host, new Error(`data-plane host of ${host.launch.slug} was stopped`));
    const child = host.child;
    if (child) await terminate(child, policy.stopTimeoutMs);
    host.child = undefined;
    host.endpoint = undefined;
    host.state = 'stopped';
    if (hosts.get(host.launch.slug) === host) hosts.delete(host.launch.slug);
    await removePidFile(host.launch.directory, child?.pid);
    emit(host);
  };

  /** Decides and spawns under the slug's lock; the returned `ready` is awaited outside it. */
  const begin = (launch: HostLaunch): Promise<{ ready: Promise<void> }> =>
    serialized(launch.slug, async () => {
      const launchKey = keyOf(launch);
      const existing = hosts.get(launch.slug);
      if (existing?.launchKey === launchKey && existing.desired === 'running') {
        if (existing.state === 'running' || existing.state === 'crashed') {
          return { ready: Promise.resolve() };
        }
        return { ready: waitForReady(existing) };
      }
      if (existing) await stopHost(existing);
      await killStaleHost(launch.directory, hostEntry, launch.slug, logger);
      const host: SupervisedHost = {
        launch,
        launchKey,
        desired: 'running',
        state: 'starting',
        child: undefined,
        endpoint: undefined,
        restarts: 0,
        lastError: undefined,
        backoffMs: policy.initialBackoffMs,
        timers: {},
        readyWaiters: [],
      };
      hosts.set(launch.slug, host);
      const ready = waitForReady(host);
      spawnHost(host);
      return { ready };
    });

  return {
    async start(launch) {
      // The lock covers deciding and spawning only, so a stop is never held up by a slow start.
      const { ready } = await begin(launch);
      await ready;
    },
    stop: (slug, directory) =>
      serialized(slug, async () => {
        const host = hosts.get(slug);
        if (host) await stopHost(host);
        else await killStaleHost(directory, hostEntry, slug, logger);
      }),
    status(slug, tenantUid) {
      const host = hosts.get(slug);
      if (host?.launch.tenantUid !== tenantUid) {
        return { state: 'stopped', endpoint: undefined, restarts: 0, lastError: undefined };
      }
      return {
        state: host.state,
        endpoint: host.state === 'running' ? host.endpoint : undefined,
        restarts: host.restarts,
        lastError: host.lastError,
      };
    },
    resolveEndpoint(slug) {
      const host = hosts.get(slug);
      return host?.state === 'running' ? host.endpoint : undefined;
    },
    async stopAll() {
      await Promise.all(
        [...hosts.values()].map((host) => serialized(host.launch.slug, () => stopHost(host))),
      );
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function readyPort(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, port } = message as { type?: unknown; port?: unknown };
  return type === 'ready' && typeof port === 'number' && Number.isInteger(port) && port > 0
    ? port
    : undefined;
}

/** A digest of everything the host is started with: a different digest means restart. */
function keyOf(launch: HostLaunch): string {
  const entries = Object.entries(launch.environment).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify([launch.tenantUid, launch.directory, entries]))
    .digest('hex');
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function removePidFile(directory: string, pid: number | undefined): Promise<void> {
  const path = join(directory, HOST_PID);
  try {
    // Only our own record: a newer host may have written its pid meanwhile.
    if (pid !== undefined && (await readFile(path, 'utf8')).trim() !== String(pid)) return;
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Kills a host recorded in `host.pid` by an earlier supervisor, if that process still runs
 * and really is this tenant's host (a pid can be reused: the command line and environment
 * are checked through /proc; without /proc nothing is killed). Hosts exit by themselves
 * when their supervisor dies, so this only catches a wedged one.
 */
async function killStaleHost(
  directory: string,
  hostEntry: string,
  slug: string,
  logger: DriverLogger,
): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(join(directory, HOST_PID), 'utf8'), 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 1 && (await isHostProcess(pid, hostEntry, slug))) {
    logger.warn({ tenant: slug, pid }, 'killing a stale data-plane host left by an earlier run');
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  await removePidFile(directory, undefined);
}

async function isHostProcess(pid: number, hostEntry: string, slug: string): Promise<boolean> {
  try {
    const [commandLine, environment] = await Promise.all([
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
      readFile(`/proc/${pid}/environ`, 'utf8'),
    ]);
    return (
      commandLine.split('\0').includes(hostEntry) &&
      environment.split('\0').includes(`CITADEL_TENANT_SLUG=${slug}`)
    );
  } catch {
    return false;
  }
}

/** The last non-empty line of the host's log (at most 500 characters), for `lastError`. */
function lastLogLine(path: string): string | undefined {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, 'r');
    const { size } = fstatSync(descriptor);
    const length = Math.min(size, 4096);
    const buffer = Buffer.alloc(length);
    readSync(descriptor, buffer, 0, length, size - length);
    const lines = buffer
      .toString('utf8')
      .split('\n')
      .map((line) => line.trim());
    return lines
      .filter((line) => line.length > 0)
      .at(-1)
      ?.slice(0, 500);
  } catch {
    return undefined;
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}
