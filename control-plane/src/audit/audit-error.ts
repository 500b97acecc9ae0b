/** Business errors of the audit module; its routes map each code to a problem once. */
export type AuditErrorCode = 'tenant-not-found' | 'audit-log-empty' | 'invalid-cursor';

export class AuditError extends Error {
  readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, message: string) {
    super(message);
    this.name = 'AuditError';
    this.code = code;
  }
}
