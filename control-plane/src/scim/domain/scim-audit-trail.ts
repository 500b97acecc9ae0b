import type { AuditActor, AuditEvent, AuditTarget } from '../../audit/audit-entry.ts';
import type { AuditRecorder } from '../../audit/audit-recorder.ts';

/** Where SCIM changes are recorded: the audit module's recorder (absent in some tests). */
export type ScimAuditRecorder = Pick<AuditRecorder, 'record'>;

/**
 * The audit trail of SCIM changes. Details carry versions and counts only, never attribute
 * values: the audit log is append-only, so personal data written there could not be erased.
 */
export function createScimAuditTrail(recorder: ScimAuditRecorder | undefined) {
  return {
    /** Records a successful change by `by.actor` in `by.tenantId`'s log. */
    async changed(
      by: { tenantId: string; actor: AuditActor },
      action: string,
      target: AuditTarget,
      details: AuditEvent['details'] = {},
    ): Promise<void> {
      const event = { actor: by.actor, action, target, outcome: 'success' as const, details };
      await recorder?.record(by.tenantId, event);
    },
  };
}

export type ScimAuditTrail = ReturnType<typeof createScimAuditTrail>;
