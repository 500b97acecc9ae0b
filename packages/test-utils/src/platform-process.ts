import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const PLATFORM_ENTRY = path.join(repositoryRoot, 'control-plane/src/main.ts');

export interface PlatformProcessOptions {
  /** Platform data directory; a fresh temporary one when omitted. */
  dataDir?: string;
  /** Extra environment (DATABASE_URL, CITADEL_ADMIN_TOKEN, …). PORT defaults to 0 (any free port). */
  env?: Record<string, string | undefined>;
  startTimeoutMs?: number;
}

/** The platform running as a real child process, as `npm start` runs it. */
export interface PlatformProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Every stdout line so far (JSON log lines and the token banner). */
  output: string[];
  /** Sends `signal` and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node control-plane/src/main.ts` and resolves once it logs that it is up.
 * Rejects with the process's output when it exits or does not come up in time.
 */
export async function startPlatformProcess(
  options: PlatformProcessOptions = {},
): Promise<PlatformProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'citadel-test-')));
  // mkdtemp makes 0700; the embedded server runs as `postgres` when we are root and must pass through.
  if (options.dataDir === undefined) await chmod(dataDir, 0o711);
  const merged: Record<string, string | undefined> = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    CITADEL_DATA_DIR: dataDir,
    ...options.env,
  };
  // An undefined value means "unset" (spawn would pass the string "undefined").
  const env = Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const child = spawn(process.execPath, [PLATFORM_ENTRY], {
    cwd: repositoryRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`platform did not start:\n${output.join('\n')}`));
    }, options.startTimeoutMs ?? 90_000);
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        const match = /"url":"(http:\/\/[^"]+)".*"msg":"Citadel is up"/.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(`platform exited with ${String(code)} before it was up:\n${output.join('\n')}`),
      );
    });
  });
  return {
    url,
    dataDir,
    child,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
