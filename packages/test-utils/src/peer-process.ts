import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.ts';

const WATCHDOG = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peer-watchdog.ts');

/** A peer binary running under peer-watchdog.ts. */
export interface WatchedPeer {
  /** Where the peer's stdout and stderr go. */
  logFile: string;
  /** Resolves with the exit code once the peer (and its watchdog) have exited. */
  exited: Promise<number | null>;
  hasExited(): boolean;
  /** SIGTERM, SIGKILL after the watchdog's grace period; resolves once it has exited. */
  stop(): Promise<void>;
  /** The last lines of the log, for error messages. */
  logTail(lines?: number): string;
}

/**
 * Starts `binary args` under a watchdog that stops it when this process dies, even by
 * SIGKILL (the watchdog holds a pipe from us and acts when it closes).
 */
export function startWatchedPeer(binary: string, args: string[], logFile: string): WatchedPeer {
  const watchdog = spawn(process.execPath, [WATCHDOG, logFile, binary, ...args], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    watchdog.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    });
  });
  const logTail = (lines = 30): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  return {
    logFile,
    exited,
    hasExited: () => exitCode !== undefined,
    logTail,
    stop: async () => {
      if (exitCode === undefined) watchdog.kill('SIGTERM');
      await exited;
    },
  };
}

const EXITED = Symbol('peer exited');

/**
 * Polls `probe` like waitFor, but fails at once, with the end of the peer's log, if the
 * peer exits meanwhile (a bad flag should not cost the whole start timeout).
 */
export async function waitForPeer<T>(
  peer: WatchedPeer,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; description: string },
): Promise<T> {
  const value = await waitFor<T | typeof EXITED>(
    () => (peer.hasExited() ? Promise.resolve(EXITED) : probe()),
    options,
  );
  if (value === EXITED) {
    throw new Error(
      `${options.description}: the peer exited; last lines of ${peer.logFile}:\n${peer.logTail()}`,
    );
  }
  return value;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the peer binds it right after). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port assigned');
  return address.port;
}
