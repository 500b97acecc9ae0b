/**
 * The exit codes of `citadel`. Scripts rely on them, so they never change meaning; a new
 * failure class gets a new number.
 */
export const EXIT_CODES = {
  /** The command did what was asked. */
  success: 0,
  /** Anything not covered below: a bug, an unexpected answer from the platform. */
  unexpected: 1,
  /** Bad arguments or a request the platform rejected as invalid (HTTP 400, 413, 415, 422). */
  usage: 2,
  /** The tenant (or route) does not exist (HTTP 404). */
  notFound: 3,
  /** The request conflicts with the current state, e.g. a duplicate slug (HTTP 409). */
  conflict: 4,
  /** Missing or rejected credentials (HTTP 401, 403). */
  auth: 5,
  /** `--wait` gave up before the tenant reached the target phase. */
  waitTimeout: 6,
  /** `--wait` saw the tenant reach phase Failed. */
  tenantFailed: 7,
  /** The platform could not be reached or said it is unavailable (connection refused, HTTP 502/503/504). */
  unavailable: 8,
  /** `audit verify` found the tenant's audit log modified, incomplete or badly signed. */
  auditTampered: 9,
} as const;

/** The name of an exit code, e.g. `notFound`. */
export type ExitCodeName = keyof typeof EXIT_CODES;
/** One of the documented exit codes. */
export type ExitCode = (typeof EXIT_CODES)[ExitCodeName];

const EXIT_CODE_DESCRIPTIONS: Record<ExitCodeName, string> = {
  success: 'success',
  unexpected: 'unexpected error',
  usage: 'usage or validation error (HTTP 400/413/415/422)',
  notFound: 'not found (HTTP 404)',
  conflict: 'conflict, e.g. the slug is taken (HTTP 409)',
  auth: 'authentication or authorization failed (HTTP 401/403)',
  waitTimeout: '--wait timed out',
  tenantFailed: 'the tenant reached phase Failed',
  unavailable: 'platform unreachable or unavailable (connection refused, HTTP 502/503/504)',
  auditTampered: 'audit log tampered (`audit verify` found problems)',
};

/** The exit-code table, as printed in `citadel --help`. */
export function describeExitCodes(): string {
  const names = Object.keys(EXIT_CODES) as ExitCodeName[];
  const rows = names.map((name) => `  ${EXIT_CODES[name]}  ${EXIT_CODE_DESCRIPTIONS[name]}`);
  return ['Exit codes:', ...rows].join('\n');
}

const HTTP_STATUS_EXIT_CODES: ReadonlyMap<number, ExitCode> = new Map<number, ExitCode>([
  [400, EXIT_CODES.usage],
  [413, EXIT_CODES.usage],
  [415, EXIT_CODES.usage],
  [422, EXIT_CODES.usage],
  [401, EXIT_CODES.auth],
  [403, EXIT_CODES.auth],
  [404, EXIT_CODES.notFound],
  [409, EXIT_CODES.conflict],
  [502, EXIT_CODES.unavailable],
  [503, EXIT_CODES.unavailable],
  [504, EXIT_CODES.unavailable],
]);

/** The exit code for an HTTP error status from the platform. */
export function exitCodeForHttpStatus(status: number): ExitCode {
  return HTTP_STATUS_EXIT_CODES.get(status) ?? EXIT_CODES.unexpected;
}
