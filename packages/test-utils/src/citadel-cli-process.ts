import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli/bin/citadel.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `citadel …` as a user would, a real process, against the platform at `url`. */
export function runCitadelCli(
  args: string[],
  target: { url: string; token: string },
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: {
          ...process.env,
          CITADEL_URL: target.url,
          CITADEL_ADMIN_TOKEN: target.token,
          NO_COLOR: '1',
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
