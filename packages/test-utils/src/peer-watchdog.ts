/**
 * Ties a test peer's life to the test process. A Go binary such as etcd or kube-apiserver
 * cannot notice that the process that started it has died, so it is run under this
 * watchdog: `node peer-watchdog.ts <log file> <binary> [args…]`, started with a pipe on
 * stdin. When that pipe closes — the test process exited, or was SIGKILLed — or the
 * watchdog gets SIGTERM/SIGINT, the peer gets SIGTERM, then SIGKILL after a grace period.
 * The watchdog exits with the peer's status. See startWatchedPeer in peer-process.ts.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

const STOP_GRACE_MS = 10_000;

const [logFile, binary, ...args] = process.argv.slice(2);
if (logFile === undefined || binary === undefined) {
  process.stderr.write('usage: node peer-watchdog.ts <log file> <binary> [args…]\n');
  process.exit(2);
}

const log = openSync(logFile, 'a');
const peer = spawn(binary, args, { stdio: ['ignore', log, log] });
closeSync(log);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  peer.kill('SIGTERM');
  setTimeout(() => peer.kill('SIGKILL'), STOP_GRACE_MS).unref();
};

process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

peer.on('error', (error) => {
  const message = `peer-watchdog: could not start ${binary}: ${error.message}\n`;
  const failure = openSync(logFile, 'a');
  writeSync(failure, message);
  closeSync(failure);
  process.exit(127);
});
peer.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)));
