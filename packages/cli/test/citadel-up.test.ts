import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCitadel } from '../src/citadel-program.ts';
import { EXIT_CODES } from '../src/exit-codes.ts';
import { controlPlaneEntryPath, runPlatformProcess } from '../src/platform-process.ts';
import { captureStream } from './captured-stream.ts';

// `citadel up` runs a real child process. The control plane is being written
// concurrently, so these tests give it a small script in its place that records what it
// received; the lead's end-to-end test starts the real one.
const RECORDING_PLATFORM = `
import { writeFileSync } from 'node:fs';
const record = (extra) => writeFileSync(process.env.RECORD_FILE, JSON.stringify({
  port: process.env.PORT, dataDir: process.env.CITADEL_DATA_DIR, ...extra,
}));
record({ state: 'started' });
process.on('SIGTERM', () => { record({ state: 'stopped by SIGTERM' }); process.exit(0); });
if (process.env.EXIT_AT_ONCE) process.exit(Number(process.env.EXIT_AT_ONCE));
setInterval(() => {}, 1000);
`;

async function waitForFile(path: string, contains: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (existsSync(path)) {
      const text = await readFile(path, 'utf8');
      if (text.includes(contains)) return text;
    }
    await delay(25);
  }
  throw new Error(`${path} never contained ${contains}`);
}

describe('citadel up', () => {
  let directory: string;
  let entryPath: string;
  let recordFile: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'citadel-up-'));
    entryPath = join(directory, 'platform.mjs');
    recordFile = join(directory, 'record.json');
    await writeFile(entryPath, RECORDING_PLATFORM);
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  function up(args: string[], env: Record<string, string>, signals = new EventEmitter()) {
    const stderr = captureStream();
    const exitCode = runCitadel(
      {
        stdout: captureStream(),
        stderr,
        env: {},
        fetch: globalThis.fetch,
        startPlatform: (options) =>
          runPlatformProcess({
            ...options,
            entryPath,
            execPath: process.execPath,
            env: { RECORD_FILE: recordFile, ...env },
            signals,
          }),
      },
      ['up', ...args],
    );
    return { exitCode, stderr };
  }

  it('passes --port and --data-dir as PORT and CITADEL_DATA_DIR and exits with the platform code', async () => {
    const run = up(['--port', '9123', '--data-dir', '/srv/citadel'], { EXIT_AT_ONCE: '3' });

    expect(await run.exitCode).toBe(3);
    expect(run.stderr.text).toBe('');
    expect(JSON.parse(await readFile(recordFile, 'utf8'))).toEqual({
      port: '9123',
      dataDir: '/srv/citadel',
      state: 'started',
    });
  });

  it('forwards SIGTERM to the platform and exits 0 when it shuts down cleanly', async () => {
    const signals = new EventEmitter();
    const run = up([], {}, signals);
    await waitForFile(recordFile, 'started');

    signals.emit('SIGTERM');

    expect(await run.exitCode).toBe(EXIT_CODES.success);
    expect(JSON.parse(await readFile(recordFile, 'utf8'))).toMatchObject({
      state: 'stopped by SIGTERM',
    });
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('rejects a port that is not one', async () => {
    const run = up(['--port', '70000'], {});
    expect(await run.exitCode).toBe(EXIT_CODES.usage);
    expect(run.stderr.text).toContain('expected a port number between 1 and 65535');
  });

  it('points at the control plane entry point of this repository', () => {
    expect(controlPlaneEntryPath()).toMatch(/control-plane\/src\/main\.ts$/);
  });
});
