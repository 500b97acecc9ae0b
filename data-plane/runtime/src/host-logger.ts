/** pino-style logging: `(fields, message)`. The host writes JSON lines to its log file. */
export interface HostLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Where log lines go: `process.stdout`, or anything with a `write`. */
export interface LogSink {
  write(line: string): unknown;
}

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/**
 * A logger writing one JSON object per line in pino's shape (`level`, `time`, `msg`), so
 * the platform's log tooling reads host logs like its own. Kept dependency-free: the host
 * starts on the tenant-provisioning hot path, and every import costs start time.
 */
export function createJsonLineLogger(
  sink: LogSink,
  bindings: Record<string, unknown> = {},
): HostLogger {
  const write = (level: keyof typeof LEVELS, fields: Record<string, unknown>, message: string) => {
    const entry = { level: LEVELS[level], time: Date.now(), ...bindings, ...fields, msg: message };
    sink.write(`${JSON.stringify(entry, errorReplacer)}\n`);
  };
  return {
    info: (fields, message) => write('info', fields, message),
    warn: (fields, message) => write('warn', fields, message),
    error: (fields, message) => write('error', fields, message),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error
    ? { type: value.name, message: value.message, stack: value.stack }
    : value;
}
