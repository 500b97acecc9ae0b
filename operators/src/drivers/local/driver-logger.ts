/**
 * The logging the local drivers need: pino-style `(fields, message)` calls, satisfied by
 * pino and by the platform's logger.
 */
export interface DriverLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
