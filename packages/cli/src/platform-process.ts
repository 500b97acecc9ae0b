import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/** What `citadel up` passes on to the platform, as the environment it reads. */
export interface PlatformStartOptions {
  port?: number;
  dataDir?: string;
}

/** Where the process signals that Ctrl-C and service managers send arrive (the CLI's own process). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface PlatformProcessOptions extends PlatformStartOptions {
  /** The script to run, normally {@link controlPlaneEntryPath}. */
  entryPath: string;
  /** The Node binary, normally `process.execPath`: the same Node 24 that runs the CLI. */
  execPath: string;
  env: Readonly<Record<string, string | undefined>>;
  signals: SignalSource;
}

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** The control plane's entry point in this repository. */
export function controlPlaneEntryPath(): string {
  return fileURLToPath(new URL('../../../control-plane/src/main.ts', import.meta.url));
}

/** The environment of the platform process: the CLI's own, plus the `up` options. */
export function platformEnvironment(
  options: Pick<PlatformProcessOptions, 'env' | 'port' | 'dataDir'>,
): Record<string, string | undefined> {
  return {
    ...options.env,
    ...(options.port === undefined ? {} : { PORT: String(options.port) }),
    ...(options.dataDir === undefined ? {} : { CITADEL_DATA_DIR: options.dataDir }),
  };
}

/**
 * Runs the platform in the foreground with the terminal's stdio, forwards SIGINT/SIGTERM
 * to it so it can shut down cleanly, and resolves with the exit code the CLI should end
 * with: the platform's, or 128 + the signal number when a signal ended it (shell convention).
 */
export function runPlatformProcess(options: PlatformProcessOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.execPath, [options.entryPath], {
      stdio: 'inherit',
      env: platformEnvironment(options),
    });
    const forwarders = FORWARDED_SIGNALS.map((signal) => {
      const forward = (): void => {
        child.kill(signal);
      };
      options.signals.on(signal, forward);
      return () => options.signals.off(signal, forward);
    });
    const stopForwarding = (): void => {
      for (const stop of forwarders) stop();
    };
    child.once('error', (error) => {
      stopForwarding();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
