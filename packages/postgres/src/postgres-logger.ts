/**
 * The logging this package needs: satisfied by `console`, pino and the platform's logger.
 */
export interface PostgresLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

/** A logger that drops everything (the default). */
export const silentLogger: PostgresLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
