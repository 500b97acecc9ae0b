import type { DriverLogger } from '../drivers/local/driver-logger.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Readonly<Record<LogLevel, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 99,
};

export interface JsonLinesLogger extends DriverLogger {
  child(fields: Record<string, unknown>): JsonLinesLogger;
}

function serializable(value: unknown): unknown {
  if (value instanceof Error) {
    const cause = value.cause === undefined ? {} : { cause: serializable(value.cause) };
    return { name: value.name, message: value.message, ...cause };
  }
  return value;
}

/**
 * The operator's log: one JSON object per line on `write` (stdout by default), the pino
 * shape the platform uses (`level`, `time`, `msg`, fields), with no dependency. Errors are
 * logged by name and message, never with the objects they carry.
 */
export function createJsonLinesLogger(
  level: LogLevel,
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stdout.write(line),
): JsonLinesLogger {
  const log = (at: Exclude<LogLevel, 'silent'>) => (fields: object, message: string) => {
    if (RANK[at] < RANK[level]) return;
    const entries = Object.entries({ ...base, ...fields }).map(([key, value]) => [
      key,
      serializable(value),
    ]);
    write(
      `${JSON.stringify({ level: at, time: new Date().toISOString(), msg: message, ...Object.fromEntries(entries) })}\n`,
    );
  };
  return {
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createJsonLinesLogger(level, { ...base, ...fields }, write),
  };
}
